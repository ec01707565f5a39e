import ArgumentParser
import Foundation
import Store

/// `optilog findings`: the published study's claims, each checked against a study's runs.
struct FindingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "findings",
        abstract: "The published study's claims, each checked against a study's logged runs (agrees, disagrees, not enough runs).",
        discussion: """
            Each claim is a check over the study's runs — one configuration per optimizer, several seeds \
            for a spread — with the numbers behind its verdict; the README defines every check. The \
            claims were made at learning rate 0.001 for all: run them with --preset seed-2020 (or \
            --preset seed, Keras 3's defaults, where SGD runs at 0.01; a note says so). Examples:
              optilog study --preset seed-2020 --seeds 1 2 3 --db study.sqlite
              optilog findings --db study.sqlite
              optilog findings --study study-quick --format json
            """)

    @Option(help: "The study (default: study-seed-2020, else study-seed).") var study: String?
    @Option(help: "Output format: table, csv, tsv, json, ndjson, markdown.") var format: OutputFormat = .table
    @OptionGroup var store: StoreOptions

    func run() throws {
        let reader = try ReadOnlyStore(path: store.resolvedPath)
        let name = try study ?? ["study-seed-2020", "study-seed"].first { (try? reader.studyID(named: $0)) != nil }
            ?? { throw CleanError("no study-seed-2020 or study-seed in \(reader.path); name one with --study (optilog runs lists them)") }()
        let (findings, notes) = try reader.findings(study: name)
        let table = format == .table || format == .markdown
        let printer = RowPrinter(columns: ["task", "claim", "verdict", "evidence"] + (table ? [] : ["check"]), format: format)
        print(
            printer.render(
                findings.map { f in
                    [.text(f.task), .text(f.claim), .text(f.verdict.rawValue), .text(f.evidence)] + (table ? [] : [.text(f.check)])
                }), terminator: "")
        guard table else {
            for note in notes { warn("optilog: note: \(note)") }
            return
        }
        let agrees = findings.filter { $0.verdict == .agrees }.count, disagrees = findings.filter { $0.verdict == .disagrees }.count
        print("\nstudy \(name): \(agrees) agree, \(disagrees) disagree, \(findings.count - agrees - disagrees) without enough runs; "
              + "values are the mean ± sd (n seeds) of each run's best val_loss unless named")
        print("checks:")
        var seen: Set<String> = []
        for f in findings where seen.insert(f.claim).inserted { print("  \(f.claim): \(f.check)") }
        for note in notes { print("note: \(note)") }
    }
}

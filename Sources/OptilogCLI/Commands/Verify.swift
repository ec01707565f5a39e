import ArgumentParser
import Foundation
import Store

/// `optilog verify`: is the log sound? The exit code answers; the rows say what was checked.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the store and every checkpoint; exit 0 if all is well, 1 if not.",
        discussion: """
            SQLite's integrity and foreign-key checks, then per run (or only RUN): epochs 1…epochs_done \
            without gaps, best-so-far equal to the epochs' best, and every checkpoint decoded, its payload \
            hashed against the recorded SHA-256, its configuration fingerprint and optimizer-state \
            checksum compared with the log. Opens the store read-only. --problems prints only what failed.
            """)

    @Argument(help: ArgumentHelp("Only this run (id or uid prefix).", valueName: "run")) var reference: String?
    @Flag(help: "Print only the problems.") var problems = false
    @Option(help: "Output format: table, csv, tsv, json, ndjson, markdown.") var format: OutputFormat = .table
    @OptionGroup var store: StoreOptions

    func run() throws {
        let reader = try ReadOnlyStore(path: store.resolvedPath)
        let findings = try reader.verify(run: try reference.map(reader.resolveRun))
        let bad = findings.filter { !$0.ok }
        let shown = problems ? bad : findings
        let printer = RowPrinter(
            columns: ["scope", "result", "detail"], format: format,
            emphasis: Set(shown.enumerated().filter { !$0.element.ok }.map { [$0.offset, 1] }))
        print(printer.render(shown.map { [.text($0.scope), .text($0.ok ? "ok" : "PROBLEM"), .text($0.detail)] }), terminator: "")
        let checkpoints = findings.filter { $0.scope.contains("checkpoint") }.count
        if bad.isEmpty {
            warn("verify: all well (\(findings.count) checks, \(checkpoints) checkpoints decoded)")
        } else {
            warn("optilog: error: verify found \(bad.count) problem(s) in \(findings.count) checks")
            throw ExitCode(1)
        }
    }
}

import ArgumentParser
import Foundation
import Engine

/// `optilog surface`: an optimizer's path over a 2D test function, in Float32, as the study's
/// figures draw it — and the easiest way to check optilog's optimizers against another
/// implementation.
struct Surface: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Minimise a 2D test function with an optimizer and print its path.",
        discussion: """
        Functions: beale (start 1,1.5), rosenbrock (the deep valley, start -1.5,2), saddle (x²−y², \
        start 1,0.001), himmelblau (start 0,0). Step 0 is the start point; --steps N prints N+1 \
        points. Non-finite values print as NaN, Infinity, -Infinity (strings in JSON). Example:
          optilog surface --function beale --optimizer sgd --set learning_rate=0.01 --set nesterov=true --set momentum=0.9
        """)

    @Option(help: "beale, rosenbrock, saddle or himmelblau.") var function: TestFunction = .beale
    @Option(help: "Optimizer: \(Optimizers.names.joined(separator: ", ")).") var optimizer: String = "adam"
    @Option(name: .customLong("set"), help: ArgumentHelp("Optimizer setting with Keras's name, e.g. learning_rate=0.01.", valueName: "KEY=VALUE"))
    var settings: [Setting] = []
    @Option(help: ArgumentHelp("Start point.", valueName: "X,Y")) var start: StartPoint?
    @Option(help: "Optimizer steps.") var steps: Int = 200
    @Option(help: "Output format: table, csv, tsv, json, ndjson, markdown.") var format: OutputFormat = .table

    func validate() throws {
        guard steps >= 0 && steps <= 10_000_000 else { throw ValidationError("--steps must be between 0 and 10000000") }
    }

    func run() throws {
        let opt = try Optimizers.make(optimizer, settings: settings.map { ($0.key, $0.value) })
        let path = function.path(optimizer: opt, start: start.map { ($0.x, $0.y) }, steps: steps)
        let printer = RowPrinter(columns: ["step", "x", "y", "loss"], format: format)
        let digits = format == .table ? 6 : 9
        print(printer.render(path.map { [.integer($0.step), .float($0.x, digits: digits), .float($0.y, digits: digits), .float($0.loss, digits: digits)] }),
              terminator: "")
    }
}

extension TestFunction: ExpressibleByArgument {}

/// `--start X,Y`.
struct StartPoint: ExpressibleByArgument {
    let x: Float
    let y: Float

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, let x = Float(parts[0].trimmingCharacters(in: .whitespaces)),
              let y = Float(parts[1].trimmingCharacters(in: .whitespaces)), x.isFinite, y.isFinite else { return nil }
        (self.x, self.y) = (x, y)
    }
}

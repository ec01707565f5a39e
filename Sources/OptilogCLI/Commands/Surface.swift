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
            start 1,0.001), himmelblau (start 0,0). Step 0 is the start point; --steps N (default 200) prints N+1 \
            points. Non-finite values print as NaN, Infinity, -Infinity (strings in JSON). \
            --svg FILE draws the function's contours with the path of --optimizer, or of every optimizer in \
            --optimizers (default all eight; each --set goes to the optimizers that have that setting), \
            by default as the report draws them: 500 steps at learning_rate=0.01. Examples:
              optilog surface --function beale --optimizer sgd --set learning_rate=0.01 --set nesterov=true --set momentum=0.9
              optilog surface --function rosenbrock --set learning_rate=0.01 --steps 1000 --svg rosenbrock.svg
            """)

    @Option(help: "beale, rosenbrock, saddle or himmelblau.") var function: TestSurface = .beale
    @Option(help: "Optimizer: \(Optimizers.names.joined(separator: ", ")) (default adam; with --svg, only it is drawn).") var optimizer: String?
    @Option(
        name: .customLong("set"), parsing: .unconditionalSingleValue,
        help: ArgumentHelp("Optimizer setting with Keras's name, e.g. learning_rate=0.01.", valueName: "KEY=VALUE"))
    var settings: [Setting] = []
    @Option(parsing: .unconditional, help: ArgumentHelp("Start point (negative values work: --start -1.5,2).", valueName: "X,Y"))
    var start: StartPoint?
    @Option(help: "Optimizer steps (default 200; with --svg 500, as the report draws them).") var steps: Int?
    @Option(help: "Output format: table, csv, tsv, json, ndjson, markdown.") var format: OutputFormat = .table
    @Option(help: ArgumentHelp("Draw the contour plot with every optimizer's path to this SVG file.", valueName: "FILE")) var svg: String?
    @Option(parsing: .upToNextOption, help: ArgumentHelp("With --svg: the optimizers to draw (a,b or a b; default all).", valueName: "NAMES"))
    var optimizers: [String] = []
    @Flag(help: "With --svg: overwrite the file even if it is an SQLite database.") var force = false

    func validate() throws {
        if let steps, !(0...10_000_000).contains(steps) { throw ValidationError("--steps must be between 0 and 10000000") }
        _ = try Lists.optimizers(optimizers)
        if let optimizer { _ = try Lists.optimizers([optimizer], option: "--optimizer") }
        if optimizer != nil && !optimizers.isEmpty { throw ValidationError("--optimizer draws one path, --optimizers several: give one of them") }
    }

    func run() throws {
        if let svg {
            let names = try optimizer.map { try Lists.optimizers([$0]) } ?? (optimizers.isEmpty ? Optimizers.names : try Lists.optimizers(optimizers))
            // The report's figure by default: 500 steps at learning rate 0.01 for every optimizer
            // (at Keras's defaults most paths barely leave the start in 200 steps).
            let pairs = settings.map { ($0.key, $0.value) }
            let figure = try Self.figure(
                function, optimizers: names, settings: pairs.contains { $0.0 == "learning_rate" } ? pairs : [("learning_rate", "0.01")] + pairs,
                start: start.map { ($0.x, $0.y) }, steps: steps ?? 500)
            try OutputFile(path: svg, store: StoreOptions.defaultPath, force: force).write(
                figure.svg(), what: "\(figure.paths.count) path\(figure.paths.count == 1 ? "" : "s")")
            return
        }
        let opt = try Optimizers.make(optimizer ?? "adam", settings: settings.map { ($0.key, $0.value) })
        let path = function.path(optimizer: opt, start: start.map { ($0.x, $0.y) }, steps: steps ?? 200)
        let printer = RowPrinter(columns: ["step", "x", "y", "loss"], format: format)
        let digits = format == .table ? 6 : 9
        print(
            printer.render(
                path.map {
                    [.integer($0.step), .float($0.x, digits: digits), .float($0.y, digits: digits), .float($0.loss, digits: digits)]
                }),
            terminator: "")
    }
}

extension Surface {
    /// Every optimizer's path over the function; a setting goes to the optimizers whose Keras
    /// configuration has it (learning_rate to all, momentum to SGD and RMSprop, …).
    static func figure(
        _ function: TestSurface, optimizers: [String], settings: [(String, String)],
        start: (Float, Float)?, steps: Int
    ) throws -> ContourPlot {
        var unused = Set(settings.map(\.0))
        var applied: [[String]] = []
        var paths = try optimizers.compactMap { name -> ContourPlot.Path? in
            guard Optimizers.names.contains(name) else {
                throw CleanError("unknown optimizer \(name); one of \(Optimizers.names.joined(separator: ", "))")
            }
            guard case .object(let defaults) = try Optimizers.make(name, settings: []).config else { return nil }
            let keys = Set(defaults.map(\.0))
            let own = settings.filter { keys.contains($0.0) }
            unused.subtract(own.map(\.0))
            applied.append(own.map { "\($0.0)=\($0.1)" })
            let optimizer = try Optimizers.make(name, settings: own)
            return ContourPlot.Path(
                label: name, slot: OptimizerOrder.slot(name), points: function.path(optimizer: optimizer, start: start, steps: steps))
        }
        if let key = unused.sorted().first { throw CleanError("no optimizer drawn has the setting \(key)") }
        // Settings every path shares go in the title; the others by the optimizer's name.
        let shared = applied.first.map { first in first.filter { s in applied.allSatisfy { $0.contains(s) } } } ?? []
        for i in paths.indices {
            let own = applied[i].filter { !shared.contains($0) }
            if !own.isEmpty { paths[i].label += " (" + own.joined(separator: ", ") + ")" }
        }
        return ContourPlot(
            function: function, paths: paths,
            title: "\(function.rawValue): \(steps) steps" + (shared.isEmpty ? "" : ", " + shared.joined(separator: ", ") + " for all")
                + (applied.contains { !$0.allSatisfy(shared.contains) } ? "; others as named" : "") + "; the rest Keras's defaults")
    }
}

extension TestSurface: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

/// `--start X,Y`.
struct StartPoint: ExpressibleByArgument {
    let x: Float
    let y: Float

    init?(argument: String) {
        let parts = Lists.ascii(argument).split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, let x = Float(parts[0].trimmingCharacters(in: .whitespaces)),
            let y = Float(parts[1].trimmingCharacters(in: .whitespaces)), x.isFinite, y.isFinite
        else { return nil }
        (self.x, self.y) = (x, y)
    }
}

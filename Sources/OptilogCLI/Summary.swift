import ArgumentParser
import Engine

/// `optilog summary`: a study model's layers, output shapes and parameter counts, as Keras's
/// `model.summary()` prints them.
struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a study model's summary, as Keras does.")

    @Option(help: "Model: \(Architecture.allValueStrings.joined(separator: ", ")).")
    var model: Architecture = .boston

    func run() throws {
        print(try model.build(seed: 0).summary())
    }
}

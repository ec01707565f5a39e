import ArgumentParser
import Engine

/// `optilog summary`: a study model's layers, output shapes and parameter counts, as Keras's
/// `model.summary()` prints them.
struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a study model's summary, as Keras does.")

    @Option(help: "Task: \(StudyTask.allValueStrings.joined(separator: ", ")) (default boston).") var task: StudyTask?
    /// The name `summary` had before `--task` (kept working).
    @Option(help: .hidden) var model: StudyTask?

    func validate() throws {
        if task != nil && model != nil { throw ValidationError("give --task (--model is its old name), not both") }
    }

    func run() throws {
        print(try (task ?? model ?? .boston).build(seed: 0).summary())
    }
}

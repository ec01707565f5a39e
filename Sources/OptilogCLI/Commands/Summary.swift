import ArgumentParser
import Data
import Engine

/// `optilog summary`: a study model's layers, output shapes and parameter counts, as Keras's
/// `model.summary()` prints them — for the model that would train on the data found (Jena's
/// six-feature hourly file makes a smaller LSTM than the canonical fourteen), or with
/// `--canonical` for the study's input shape.
struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a study model's summary, as Keras does, for the data it would train on.",
        discussion: """
            The input shape is the located data's (as `optilog datasets` finds it; --data-dir); \
            --canonical uses the study's canonical shape instead. Example:
              optilog summary --task jena --data-dir ../shared/datasets/keras-layout
            """)

    @Option(help: "Task: \(StudyTask.allValueStrings.joined(separator: ", ")) (default boston).") var task: StudyTask?
    /// The name `summary` had before `--task` (kept working).
    @Option(help: .hidden) var model: StudyTask?
    @Option(help: "Directory searched first for data sets.") var dataDir: String?
    @Flag(help: "The study's canonical input shape, whatever data is found.") var canonical = false

    func validate() throws {
        if task != nil && model != nil { throw ValidationError("give --task (--model is its old name), not both") }
    }

    func run() throws {
        let chosen = task ?? model ?? .boston
        if canonical {
            print("\(chosen.rawValue), canonical input \(chosen.canonicalInputShape.map(String.init).joined(separator: "×"))")
            print(try chosen.build(seed: 0).summary())
            return
        }
        let found = try DataLocator(dataDir: dataDir).locate(chosen)
        for note in found.notes { warn("optilog: note: \(note)") }
        let shape = found.splits.train.inputShape
        print("\(chosen.rawValue) on \(found.dataset), input \(shape.map(String.init).joined(separator: "×"))"
              + (shape == chosen.canonicalInputShape ? "" : " (canonical: \(chosen.canonicalInputShape.map(String.init).joined(separator: "×")); --canonical)"))
        print(try chosen.build(inputShape: shape, seed: 0).summary())
    }
}

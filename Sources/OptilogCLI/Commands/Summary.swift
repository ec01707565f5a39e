import ArgumentParser
import Data
import Engine
import Foundation

/// `optilog summary`: a study model's layers, output shapes and parameter counts, as Keras's
/// `model.summary()` prints them — for the model that would train on the data found (Jena's
/// six-feature hourly file makes a smaller LSTM than the canonical fourteen), or with
/// `--canonical` for the study's input shape; or, with `--model FILE`, the user's own Keras model
/// as optilog reads it.
struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a study model's summary, as Keras does, for the data it would train on.",
        discussion: """
            The input shape is the located data's (as `optilog datasets` finds it; --data-dir); \
            --canonical uses the study's canonical shape instead. Example:
              optilog summary --task jena --data-dir ../shared/datasets/keras-layout
            Your own Keras model (JSON or .keras), as optilog reads and builds it:
              optilog summary --model model.json
            """)

    @Option(help: "Task: \(StudyTask.allValueStrings.joined(separator: ", ")) (default boston).") var task: StudyTask?
    /// Your own model's file; a task's name also works (`--model` was `--task`'s old name).
    @Option(help: ArgumentHelp("Your own Keras model (model.to_json() or a .keras file): the layers optilog builds from it.", valueName: "FILE"))
    var model: String?
    @Option(help: "Directory searched first for data sets.") var dataDir: String?
    @Flag(help: "The study's canonical input shape, whatever data is found.") var canonical = false

    func validate() throws {
        if task != nil && model != nil { throw ValidationError("give --task (--model is its old name), not both") }
    }

    func run() throws {
        if let model, StudyTask(argument: model) == nil {
            let keras: KerasModel
            do { keras = try KerasModel(try KerasFiles.modelConfiguration(model)) } catch let error as EngineError {
                throw CleanError("\((model as NSString).lastPathComponent): \(error)")
            }
            print("\((model as NSString).lastPathComponent): input \(keras.inputShape.map(String.init).joined(separator: "×"))"
                  + (keras.integerInput ? " (integer ids)" : "") + ", architecture fingerprint \(keras.fingerprint.prefix(12))")
            print(try keras.build(seed: 0).summary(name: keras.name))
            return
        }
        let chosen = task ?? model.flatMap(StudyTask.init(argument:)) ?? .boston
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

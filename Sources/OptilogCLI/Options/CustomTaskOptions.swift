import ArgumentParser
import Data
import Engine
import Foundation
import Study

/// `--model`, `--data` and what goes with them: the user's own Keras model and data, in place of
/// a built-in task (`run` and `study`).
struct CustomTaskOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Your own Keras model: the JSON of model.to_json(), or a .keras file (its config.json and compile() settings).",
                               valueName: "FILE"))
    var model: String?
    @Option(help: ArgumentHelp("Its data: an .npz (x_train, y_train, and x_val/y_val or x_test/y_test) or a CSV file (with --target).",
                               valueName: "FILE"))
    var data: String?
    @Option(help: "Loss by Keras's name: mse, mae, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy (default: the .keras file's compile()).")
    var loss: String?
    @Option(help: "Metric by Keras's name: accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy, mae, mse (default: the .keras file's, else accuracy or mae).")
    var metric: String?
    @Option(help: ArgumentHelp("CSV: the column to predict (the others are the features).", valueName: "COLUMN")) var target: String?
    @Option(help: ArgumentHelp("Validate on the last fraction of the training data, as Keras's validation_split does.", valueName: "F"))
    var validationSplit: Double?
    @Option(help: ArgumentHelp("Start every run from these weights: a .keras file, or np.savez(FILE, *model.get_weights()).", valueName: "FILE"))
    var initialWeights: String?
    @Option(help: ArgumentHelp("The task's name in the log (default: the study's name, or the model file's name).", valueName: "NAME"))
    var taskName: String?

    var given: Bool { model != nil }

    func validate() throws {
        if model == nil {
            let stray = [(data, "--data"), (loss, "--loss"), (metric, "--metric"), (target, "--target"), (initialWeights, "--initial-weights"),
                         (taskName, "--task-name")].first { $0.0 != nil }
            if let stray { throw ValidationError("\(stray.1) goes with --model (your own model)") }
            if validationSplit != nil { throw ValidationError("--validation-split goes with --model (your own model)") }
        } else if data == nil {
            throw ValidationError("--model needs --data (an .npz or a CSV file)")
        }
        if let validationSplit, !(validationSplit > 0 && validationSplit < 1) {
            throw ValidationError("--validation-split must be between 0 and 1 (exclusive)")
        }
    }

    /// The task, with every path made absolute (a resume or a `--jobs` child may start elsewhere).
    func task(defaultName: String?) throws -> CustomTask? {
        guard let model, let data else { return nil }
        func absolute(_ path: String) -> String {
            path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        }
        let stem = ((model as NSString).lastPathComponent as NSString).deletingPathExtension
        do {
            return try CustomTask(name: taskName ?? defaultName ?? stem, modelPath: absolute(model),
                                  data: UserData.Request(path: absolute(data), target: target, validationSplit: validationSplit),
                                  loss: loss, metric: metric, initialWeights: initialWeights.map(absolute))
        } catch let error as EngineError {
            throw CleanError("\(error)")
        }
    }
}

import Engine
import OptilogCLI

// Only the commands that train set up the process for it (a re-exec with OpenBLAS's and
// malloc's settings); queries start once, which keeps them within milliseconds.
if let command = CommandLine.arguments.dropFirst().first, ["study", "run", "resume", "train"].contains(command) {
    BLAS.prepareProcess()
}
Optilog.main()

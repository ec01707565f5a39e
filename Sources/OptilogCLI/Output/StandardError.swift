import Foundation

/// One line to standard error (progress, notes, warnings): standard output carries only the
/// rows a command prints, so pipes and redirections get data alone.
func warn(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Text to standard error as it is (a terminal's live line, redrawn with `\r`).
func writeStandardError(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}

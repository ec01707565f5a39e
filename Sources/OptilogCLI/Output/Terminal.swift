import Foundation

/// Colour only where a person reads it: a table on a terminal, never when `NO_COLOR` is set
/// (https://no-color.org) or `TERM=dumb`, never in files, pipes or machine formats.
enum Terminal {
    static var isInteractive: Bool { isatty(STDOUT_FILENO) == 1 }

    static func colorEnabled(for format: OutputFormat, environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard format == .table, isInteractive else { return false }
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
        return environment["TERM"] != "dumb"
    }

    /// Text in one of eight series colours (the same optimizer always gets the same one).
    static func paint(_ text: String, series: Int) -> String {
        // Bright or mid tones only: readable on dark and light backgrounds alike (no black,
        // grey, dark blue or white).
        let codes = ["94", "91", "32", "95", "36", "33", "35", "31"]
        return "\u{1B}[\(codes[series % codes.count])m\(text)\u{1B}[0m"
    }

    static func bold(_ text: String) -> String { "\u{1B}[1m\(text)\u{1B}[0m" }
    static func winner(_ text: String) -> String { "\u{1B}[1;32m\(text)\u{1B}[0m" }
}

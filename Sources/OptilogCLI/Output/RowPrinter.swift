import Basics
import Engine
import Foundation

/// Prints rows of named columns in any `--format`; numbers stay numbers in JSON.
struct RowPrinter {
    enum Cell {
        case text(String)
        case null
        case integer(Int)
        case number(Double, digits: Int)
        /// A Float32 value: JSON gets its exact shortest decimal, text formats `digits` places.
        case float(Float, digits: Int)

        var plain: String {
            switch self {
            case .text(let s): return s
            case .null: return ""
            case .integer(let i): return String(i)
            case let .number(d, digits):
                return d.isFinite ? String(format: "%.\(digits)f", d) : (d.isNaN ? "NaN" : (d > 0 ? "Infinity" : "-Infinity"))
            case let .float(f, digits):
                guard f.isFinite else { return f.isNaN ? "NaN" : (f > 0 ? "Infinity" : "-Infinity") }
                return abs(f) >= 1e6 || (abs(f) < 1e-4 && f != 0)
                    ? String(format: "%.\(digits)g", Double(f)) : String(format: "%.\(digits)f", Double(f))
            }
        }

        var json: String {
            switch self {
            case .text(let s): return jsonString(s)
            case .null: return "null"
            case .integer(let i): return String(i)
            case .number(let d, _): return d.isFinite ? "\(d)" : jsonString(plain)
            case .float(let f, _): return f.isFinite ? "\(Double(f))" : jsonString(plain)
            }
        }

        var isNumeric: Bool {
            switch self {
            case .text, .null: return false
            default: return true
            }
        }
    }

    let columns: [String]
    let format: OutputFormat
    /// Cells to emphasise (row, column) — drawn in colour when `color` is on.
    var emphasis: Set<[Int]> = []
    var color = false

    init(columns: [String], format: OutputFormat, emphasis: Set<[Int]> = [], color: Bool? = nil) {
        self.columns = columns
        self.format = format
        self.emphasis = emphasis
        self.color = color ?? Terminal.colorEnabled(for: format)
    }

    /// A Markdown table cell: `|` escaped, line breaks as `<br>` (a row is one line).
    static func markdownCell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\r\n", with: "<br>").replacingOccurrences(
            of: "\n", with: "<br>")
    }

    /// A TSV field: tabs and line breaks would split it, so they become spaces.
    static func tsvField(_ text: String) -> String {
        text.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ")
    }

    func render(_ rows: [[Cell]]) -> String {
        switch format {
        case .csv:
            return ([columns.map(csvField)] + rows.map { $0.map { csvField($0.plain) } })
                .map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
        case .tsv:
            return ([columns] + rows.map { $0.map(\.plain) }).map { $0.map(Self.tsvField).joined(separator: "\t") }.joined(separator: "\n")
                + "\n"
        case .ndjson: return rows.map(object).map { $0 + "\n" }.joined()
        case .json: return "[" + rows.map(object).joined(separator: ",\n ") + "]\n"
        case .markdown:
            let header = "| " + columns.map(Self.markdownCell).joined(separator: " | ") + " |"
            let rule = "|" + columns.map { _ in "---" }.joined(separator: "|") + "|"
            let body = rows.map { "| " + $0.map { Self.markdownCell($0.plain) }.joined(separator: " | ") + " |" }
            return ([header, rule] + body).joined(separator: "\n") + "\n"
        case .table:
            let texts = rows.map { $0.map(\.plain) }
            let widths = columns.indices.map { i in max(columns[i].count, texts.map { $0[i].count }.max() ?? 0) }
            // Widths from the plain text; colour goes around the padded cell.
            func line(_ cells: [String], row: Int?, numeric: [Bool]) -> String {
                cells.indices.map { i in
                    let pad = String(repeating: " ", count: widths[i] - cells[i].count)
                    let padded = numeric[i] ? pad + cells[i] : cells[i] + pad
                    guard color else { return padded }
                    guard let row else { return Terminal.bold(padded) }
                    return emphasis.contains([row, i]) ? Terminal.winner(padded) : padded
                }.joined(separator: "  ").trimmingTrailingSpaces
            }
            let numeric = columns.indices.map { i in rows.first?[i].isNumeric ?? false }
            return ([line(columns, row: nil, numeric: numeric)] + texts.enumerated().map { line($1, row: $0, numeric: numeric) })
                .joined(separator: "\n") + "\n"
        }
    }

    private func object(_ row: [Cell]) -> String {
        "{" + zip(columns, row).map { "\(jsonString($0)):\($1.json)" }.joined(separator: ",") + "}"
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}

func csvField(_ s: String) -> String {
    s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}

func jsonString(_ s: String) -> String { ConfigValue.string(s).json }

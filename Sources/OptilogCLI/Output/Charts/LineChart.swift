import Foundation

/// A line chart of several series over epochs (or steps), drawn either in the terminal or as
/// SVG from the same scales, so a figure in the report and one in the shell agree.
struct LineChart {
    struct Line {
        var label: String
        /// Colour and marker slot: an optimizer keeps its slot in every figure.
        var slot: Int
        var points: [(x: Double, y: Double)]
        /// A shaded spread around the line (mean ± sd over seeds), drawn in SVG.
        var band: [(x: Double, low: Double, high: Double)] = []
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var lines: [Line]
    var logY = false
    /// The points' x are log10 of the values (a learning rate): labels show the values.
    var logX = false

    static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f"]
    static let markers: [Character] = ["*", "+", "x", "o", "#", "@", "%", "="]

    /// Points the scale can show (log scales drop values ≤ 0).
    func visible(_ line: Line) -> [(x: Double, y: Double)] {
        line.points.filter { $0.x.isFinite && $0.y.isFinite && (!logY || $0.y > 0) }
    }

    var xRange: (Double, Double) {
        let xs = lines.flatMap { visible($0).map(\.x) }
        guard let lo = xs.min(), let hi = xs.max() else { return (0, 1) }
        return lo == hi ? (lo - 0.5, hi + 0.5) : (lo, hi)
    }

    /// The y range in scale units (log10 of the values when logY).
    var yRange: (Double, Double) {
        let bands = logY ? [] : lines.flatMap { $0.band.flatMap { [$0.low, $0.high] } }.filter(\.isFinite)
        let ys = lines.flatMap { visible($0).map { logY ? log10($0.y) : $0.y } } + bands.map { logY ? log10($0) : $0 }
        guard let lo = ys.min(), let hi = ys.max() else { return (0, 1) }
        if lo == hi { return (lo - (abs(lo) > 0 ? abs(lo) * 0.1 : 0.5), hi + (abs(hi) > 0 ? abs(hi) * 0.1 : 0.5)) }
        let pad = (hi - lo) * 0.04
        return (lo - pad, hi + pad)
    }

    func scaled(_ y: Double) -> Double { logY ? log10(y) : y }

    // MARK: Terminal

    /// A character plot: each series its marker (and colour when `color`), y labels on the left,
    /// the legend below.
    func terminal(width: Int = 72, height: Int = 18, color: Bool) -> String {
        let (x0, x1) = xRange, (y0, y1) = yRange
        var grid = Array(repeating: Array(repeating: (Character(" "), -1), count: width), count: height)
        func cell(_ x: Double, _ y: Double) -> (row: Int, col: Int)? {
            let col = Int(((x - x0) / (x1 - x0) * Double(width - 1)).rounded())
            let row = height - 1 - Int(((scaled(y) - y0) / (y1 - y0) * Double(height - 1)).rounded())
            return (0..<width).contains(col) && (0..<height).contains(row) ? (row, col) : nil
        }
        // First every line between its points, as dots in its colour (a later line's dots may
        // cover an earlier one's), then every series' points with its marker on top: a point
        // whose cell another series' point holds moves a row up or down when one is free, and
        // the legend counts those that could not be shown.
        for line in lines {
            let points = visible(line).sorted { $0.x < $1.x }
            guard points.count > 1 else { continue }
            for col in 0..<width {
                let x = x0 + (x1 - x0) * Double(col) / Double(width - 1)
                guard x >= points.first!.x, x <= points.last!.x else { continue }
                let i = max(1, points.firstIndex { $0.x >= x } ?? points.count - 1)
                let (a, b) = (points[i - 1], points[i])
                let t = b.x == a.x ? 0 : (x - a.x) / (b.x - a.x)
                let s = scaled(a.y) + (scaled(b.y) - scaled(a.y)) * t
                if let c = cell(x, logY ? pow(10, s) : s) { grid[c.row][c.col] = ("·", line.slot) }
            }
        }
        var hidden: [Int: Int] = [:]
        var owner: [Int: Int] = [:]  // cell → the series whose point holds it
        for (index, line) in lines.enumerated() {
            let marker = Self.markers[line.slot % Self.markers.count]
            for p in visible(line) {
                guard let c = cell(p.x, p.y) else { continue }
                // Its own earlier point there already (many epochs per column): nothing to do.
                if owner[c.row * width + c.col] == index { continue }
                let spot = [c.row, c.row - 1, c.row + 1].first { r in (0..<height).contains(r) && owner[r * width + c.col] == nil }
                guard let row = spot else { hidden[index, default: 0] += 1; continue }
                owner[row * width + c.col] = index
                grid[row][c.col] = (marker, line.slot)
            }
        }
        func label(_ v: Double) -> String {
            let value = logY ? pow(10, v) : v
            let text = Self.tickLabel(value, significant: 4)
            return String(repeating: " ", count: max(0, 10 - text.count)) + text
        }
        // A y label every four rows or so, the top and bottom rows always.
        let every = max(2, (height - 1) / max(1, min(6, (height - 1) / 3)))
        var out = [title]
        for (r, row) in grid.enumerated() {
            let y = y1 - (y1 - y0) * Double(r) / Double(height - 1)
            let labelled = r == 0 || r == height - 1 || (r % every == 0 && height - 1 - r >= 2)
            let axis = labelled ? label(y) + " ┤" : String(repeating: " ", count: 10) + " │"
            let cells = row.map { c, slot in color && slot >= 0 ? Terminal.paint(String(c), series: slot) : String(c) }.joined()
            out.append((axis + cells).trimmingTrailingSpaces)
        }
        let left = logX ? String(format: "%.3g", pow(10, x0)) : String(format: "%g", x0.rounded() == x0 ? x0 : (x0 * 100).rounded() / 100)
        let right = logX ? String(format: "%.3g", pow(10, x1)) : String(format: "%g", x1.rounded() == x1 ? x1 : (x1 * 100).rounded() / 100)
        out.append(String(repeating: " ", count: 11) + "└" + String(repeating: "─", count: width))
        out.append(
            String(repeating: " ", count: 12) + left + String(repeating: " ", count: max(1, width - left.count - right.count)) + right)
        out.append(String(repeating: " ", count: 12) + "\(xLabel)\(logX ? " (log scale)" : "")   (\(yLabel)\(logY ? ", log scale" : ""))")
        for (index, line) in lines.enumerated() {
            let marker = String(Self.markers[line.slot % Self.markers.count])
            let last = visible(line).last.map { String(format: "  last %.6g", $0.y) } ?? "  (no finite values)"
            let covered = hidden[index].map { "  (\($0) point\($0 == 1 ? "" : "s") hidden under others)" } ?? ""
            out.append("  " + (color ? Terminal.paint(marker, series: line.slot) : marker) + " " + line.label + last + covered)
        }
        return out.joined(separator: "\n") + "\n"
    }

    // MARK: SVG

    /// A standalone SVG figure; each series is one `<polyline class="series">` carrying its label.
    func svg(width: Double = 720, height: Double = 400) -> String {
        let (left, right, top, bottom) = (72.0, 170.0, 36.0, 48.0)
        let plotW = width - left - right, plotH = height - top - bottom
        let (x0, x1) = xRange, (y0, y1) = yRange
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * plotW }
        func py(_ y: Double) -> Double { top + plotH - (scaled(y) - y0) / (y1 - y0) * plotH }
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" \
            font-family="sans-serif" font-size="12">
            <title>\(xmlEscape(title))</title>
            <rect x="0" y="0" width="\(Int(width))" height="\(Int(height))" fill="white"/>
            <text x="\(num(left))" y="22" font-size="14" font-weight="bold">\(xmlEscape(title))</text>

            """
        // Grid and ticks.
        for t in Self.ticks(y0, y1, log: logY) {
            let y = top + plotH - (t - y0) / (y1 - y0) * plotH
            s += "<line x1=\"\(num(left))\" y1=\"\(num(y))\" x2=\"\(num(left + plotW))\" y2=\"\(num(y))\" stroke=\"#e5e5e5\"/>\n"
            s += "<text x=\"\(num(left - 6))\" y=\"\(num(y + 4))\" text-anchor=\"end\">\(Self.tickLabel(logY ? pow(10, t) : t))</text>\n"
        }
        let xTicks = Self.ticks(x0, x1, log: logX).filter { logX || $0.rounded() == $0 }
        // One style along an axis: if one value needs an exponent (1.0e-05), all get one.
        var xLabels = xTicks.map { Self.tickLabel(logX ? pow(10, $0) : $0) }
        if logX, xLabels.contains(where: { $0.contains("e") }) { xLabels = xTicks.map { String(format: "%.0e", pow(10, $0)) } }
        for (t, label) in zip(xTicks, xLabels) {
            let x = px(t)
            s += "<line x1=\"\(num(x))\" y1=\"\(num(top + plotH))\" x2=\"\(num(x))\" y2=\"\(num(top + plotH + 4))\" stroke=\"#333\"/>\n"
            s += "<text x=\"\(num(x))\" y=\"\(num(top + plotH + 17))\" text-anchor=\"middle\">\(label)</text>\n"
        }
        s += "<rect x=\"\(num(left))\" y=\"\(num(top))\" width=\"\(num(plotW))\" height=\"\(num(plotH))\" fill=\"none\" stroke=\"#333\"/>\n"
        s += "<text class=\"axis-label x\" x=\"\(num(left + plotW / 2))\" y=\"\(num(height - 10))\" text-anchor=\"middle\">\(xmlEscape(xLabel + (logX ? " (log)" : "")))</text>\n"
        s +=
            "<text class=\"axis-label y\" transform=\"translate(16 \(num(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(xmlEscape(yLabel + (logY ? " (log)" : "")))</text>\n"
        // Spreads first, under every line.
        // (Not on a log scale: mean − sd may be ≤ 0 there, and a band with holes misleads.)
        for line in lines where line.band.count > 1 && !logY {
            let colour = Self.palette[line.slot % Self.palette.count]
            let band = line.band.filter { $0.x.isFinite && $0.low.isFinite && $0.high.isFinite && (!logY || $0.low > 0) }.sorted { $0.x < $1.x }
            let outline = band.map { "\(num(px($0.x))),\(num(py($0.high)))" } + band.reversed().map { "\(num(px($0.x))),\(num(py($0.low)))" }
            s += "<polygon class=\"band\" data-series=\"\(xmlEscape(line.label))\" fill=\"\(colour)\" fill-opacity=\"0.18\" stroke=\"none\" points=\"\(outline.joined(separator: " "))\"/>\n"
        }
        // Series and legend.
        for (i, line) in lines.enumerated() {
            let colour = Self.palette[line.slot % Self.palette.count]
            let points = visible(line).sorted { $0.x < $1.x }
            let coordinates = points.map { "\(num(px($0.x))),\(num(py($0.y)))" }.joined(separator: " ")
            s +=
                "<polyline class=\"series\" data-series=\"\(xmlEscape(line.label))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.8\" points=\"\(coordinates)\"/>\n"
            // A marker on every point of a short series (a 2-epoch curve is otherwise a bare segment).
            if points.count <= 40 {
                for p in points { s += Self.marker(line.slot, x: px(p.x), y: py(p.y), colour: colour) }
            }
            let ly = top + 10 + Double(i) * 18
            s +=
                "<line x1=\"\(num(left + plotW + 14))\" y1=\"\(num(ly))\" x2=\"\(num(left + plotW + 34))\" y2=\"\(num(ly))\" stroke=\"\(colour)\" stroke-width=\"3\"/>\n"
                + Self.marker(line.slot, x: left + plotW + 24, y: ly, colour: colour)
            s += "<text x=\"\(num(left + plotW + 40))\" y=\"\(num(ly + 4))\">\(xmlEscape(line.label))</text>\n"
        }
        return s + "</svg>\n"
    }

    /// A point's marker: a shape per series slot (circle, square, triangle, diamond, then hollow),
    /// so series stay apart without colour too.
    static func marker(_ slot: Int, x: Double, y: Double, colour: String) -> String {
        let fill = slot % 8 < 4 ? colour : "white", r = 3.2
        switch slot % 4 {
        case 0: return "<circle class=\"marker\" cx=\"\(num(x))\" cy=\"\(num(y))\" r=\"\(num(r))\" fill=\"\(fill)\" stroke=\"\(colour)\" stroke-width=\"1.2\"/>\n"
        case 1: return "<rect class=\"marker\" x=\"\(num(x - r))\" y=\"\(num(y - r))\" width=\"\(num(2 * r))\" height=\"\(num(2 * r))\" fill=\"\(fill)\" stroke=\"\(colour)\" stroke-width=\"1.2\"/>\n"
        case 2: return "<path class=\"marker\" d=\"M\(num(x)) \(num(y - r - 0.8))L\(num(x + r + 0.6)) \(num(y + r))L\(num(x - r - 0.6)) \(num(y + r))Z\" fill=\"\(fill)\" stroke=\"\(colour)\" stroke-width=\"1.2\"/>\n"
        default: return "<path class=\"marker\" d=\"M\(num(x)) \(num(y - r - 0.8))L\(num(x + r + 0.8)) \(num(y))L\(num(x)) \(num(y + r + 0.8))L\(num(x - r - 0.8)) \(num(y))Z\" fill=\"\(fill)\" stroke=\"\(colour)\" stroke-width=\"1.2\"/>\n"
        }
    }

    /// Round tick positions (scale units) within [lo, hi]: steps of 1, 2 or 5 × 10ⁿ; on a log
    /// scale whole powers of ten when the range spans several, else 1, 2 and 5 × 10ⁿ (at least
    /// three ticks whenever the range allows).
    static func ticks(_ lo: Double, _ hi: Double, log: Bool) -> [Double] {
        guard hi > lo, lo.isFinite, hi.isFinite else { return [] }
        if log {
            if hi - lo >= 3 { return stride(from: lo.rounded(.up), through: hi, by: max(1, ((hi - lo) / 6).rounded(.up))).map { $0 } }
            let decades = Int(lo.rounded(.down))...Int(hi.rounded(.up))
            let mantissas: [Double] = [1, 2, 5]
            var candidates: [Double] = []
            for k in decades {
                for m in mantissas {
                    let t: Double = log10(m) + Double(k)
                    if t >= lo - 1e-9 && t <= hi + 1e-9 { candidates.append(t) }
                }
            }
            if candidates.count >= 3 { return candidates }
            // Less than that: round values, placed on the log scale.
            return ticks(pow(10, lo), pow(10, hi), log: false).filter { $0 > 0 }.map(log10)
        }
        let raw = (hi - lo) / 5, magnitude = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        return stride(from: (lo / step).rounded(.up) * step, through: hi + step * 1e-9, by: step).map { $0 }
    }

    /// A tick's text: round (never "-0"), in exponent form for very large or small values.
    static func tickLabel(_ v: Double, significant: Int = 6) -> String {
        let a = abs(v)
        if a < 1e-12 { return "0" }
        if a >= 1e5 || a < 1e-3 { return String(format: "%.1e", v) }
        let text = String(format: "%.\(significant)g", v)
        return text == "-0" ? "0" : text
    }
}

/// Two decimals: enough for a pixel, short in the file.
func num(_ v: Double) -> String { String(format: "%.2f", v) }

func xmlEscape(_ s: String) -> String {
    var out = ""
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(c)
        }
    }
    return out
}

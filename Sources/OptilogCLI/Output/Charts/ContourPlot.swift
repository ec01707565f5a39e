import Engine
import Foundation

/// The study's surface figure: contour lines of a 2D test function and the path each optimizer
/// takes over it, as SVG.
struct ContourPlot {
    struct Path {
        var label: String
        var slot: Int
        var points: [TestSurface.Point]
    }

    var function: TestSurface
    var paths: [Path]
    var title: String

    /// The window each function is drawn in, and where its minima are.
    static func domain(_ f: TestSurface) -> (x: ClosedRange<Double>, y: ClosedRange<Double>) {
        switch f {
        case .beale: return (-4.5...4.5, -4.5...4.5)
        case .rosenbrock: return (-2...2, -1...3)
        case .saddle: return (-1.5...1.5, -1.5...1.5)
        case .himmelblau: return (-5...5, -5...5)
        }
    }

    static func minima(_ f: TestSurface) -> [(Double, Double)] {
        switch f {
        case .beale: return [(3, 0.5)]
        case .rosenbrock: return [(1, 1)]
        case .saddle: return []
        case .himmelblau: return [(3, 2), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]
        }
    }

    /// Contour levels: geometric for functions bounded below by 0 (their interesting detail is
    /// near the minimum), even for the saddle.
    static func levels(_ values: [Double], count: Int = 16) -> (levels: [Double], log: Bool) {
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max(), hi > lo else { return ([], false) }
        if lo >= 0 {
            let a = log10(max(lo, hi * 1e-6, 1e-3)), b = log10(hi)
            return ((1...count).map { pow(10, a + (b - a) * Double($0) / Double(count + 1)) }, true)
        }
        return ((1...count).map { lo + (hi - lo) * Double($0) / Double(count + 1) }, false)
    }

    /// Line segments where the grid crosses `level` (marching squares; in a cell cut four
    /// times the crossings are paired in edge order).
    static func segments(grid: [[Double]], level: Double) -> [((Double, Double), (Double, Double))] {
        var out: [((Double, Double), (Double, Double))] = []
        let rows = grid.count, cols = grid.first?.count ?? 0
        guard rows > 1, cols > 1 else { return [] }
        for j in 0..<(rows - 1) {
            for i in 0..<(cols - 1) {
                // Corners counter-clockwise from (i, j); edges between consecutive corners.
                let corners = [
                    (Double(i), Double(j), grid[j][i]), (Double(i + 1), Double(j), grid[j][i + 1]),
                    (Double(i + 1), Double(j + 1), grid[j + 1][i + 1]), (Double(i), Double(j + 1), grid[j + 1][i]),
                ]
                guard corners.allSatisfy({ $0.2.isFinite }) else { continue }
                var crossings: [(Double, Double)] = []
                for e in 0..<4 {
                    let a = corners[e], b = corners[(e + 1) % 4]
                    if (a.2 < level) != (b.2 < level) {
                        let t = (level - a.2) / (b.2 - a.2)
                        crossings.append((a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t))
                    }
                }
                if crossings.count >= 2 { out.append((crossings[0], crossings[1])) }
                if crossings.count == 4 { out.append((crossings[2], crossings[3])) }
            }
        }
        return out
    }

    /// How a path went: the part to draw (up to the frame, where it left it), and the legend's
    /// words — its final value, or the step where it diverged (a non-finite value) or left the
    /// frame for good.
    static func fate(_ points: [TestSurface.Point], in domain: (x: ClosedRange<Double>, y: ClosedRange<Double>))
        -> (drawn: [(x: Double, y: Double)], left: Int?, text: String)
    {
        let inside = { (p: TestSurface.Point) in domain.x.contains(Double(p.x)) && domain.y.contains(Double(p.y)) }
        let finite = points.prefix { $0.x.isFinite && $0.y.isFinite && $0.loss.isFinite }
        let diverged = finite.count < points.count ? points[finite.count].step : nil
        // Leaving the frame and never coming back is where the drawing stops.
        if let lastInside = finite.lastIndex(where: inside), lastInside + 1 < finite.count || diverged != nil {
            let kept = finite[...lastInside].map { (x: Double($0.x), y: Double($0.y)) }
            if lastInside + 1 < finite.count {
                let a = finite[lastInside], b = finite[lastInside + 1]
                let edge = clip(from: (Double(a.x), Double(a.y)), to: (Double(b.x), Double(b.y)), domain)
                let why = diverged.map { "left at step \(b.step), diverged at \($0)" } ?? "left the frame at step \(b.step)"
                return (kept + [edge], b.step, why)
            }
            return (kept, diverged, "diverged at step \(diverged!) (non-finite)")
        }
        guard let last = finite.last else { return ([], diverged, "diverged at once") }
        let drawn = finite.map { (x: Double($0.x), y: Double($0.y)) }
        if let diverged { return (drawn, diverged, "diverged at step \(diverged) (non-finite)") }
        return (drawn, nil, "f = \(LineChart.tickLabel(Double(last.loss), significant: 4)) at step \(last.step)")
    }

    /// Where the segment from a (inside) to b (outside) crosses the frame.
    static func clip(from a: (Double, Double), to b: (Double, Double), _ d: (x: ClosedRange<Double>, y: ClosedRange<Double>)) -> (x: Double, y: Double) {
        var t = 1.0
        for (p, q, lo, hi) in [(a.0, b.0, d.x.lowerBound, d.x.upperBound), (a.1, b.1, d.y.lowerBound, d.y.upperBound)] where q != p {
            if q > hi { t = min(t, (hi - p) / (q - p)) }
            if q < lo { t = min(t, (lo - p) / (q - p)) }
        }
        return (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t)
    }

    func svg(size: Double = 460) -> String {
        let (dx, dy) = Self.domain(function)
        let (left, top, legend, bottom) = (48.0, 36.0, 190.0, 40.0)
        let plot = size - left - 12
        let width = left + plot + legend, height = max(top + plot + bottom, top + 20 + Double(paths.count) * 34)
        func px(_ x: Double) -> Double { left + (x - dx.lowerBound) / (dx.upperBound - dx.lowerBound) * plot }
        func py(_ y: Double) -> Double { top + plot - (y - dy.lowerBound) / (dy.upperBound - dy.lowerBound) * plot }
        // The function on a grid, in Float32 as the optimizers see it.
        let n = 90
        let grid: [[Double]] = (0...n).map { j in
            let y = dy.lowerBound + (dy.upperBound - dy.lowerBound) * Double(j) / Double(n)
            return (0...n).map { i in
                let x = dx.lowerBound + (dx.upperBound - dx.lowerBound) * Double(i) / Double(n)
                return Double(function.value(Float(x), Float(y)))
            }
        }
        let (levels, _) = Self.levels(grid.flatMap { $0 })
        let id = "plot-\(function.rawValue)"
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" \
            font-family="sans-serif" font-size="12">
            <title>\(xmlEscape(title))</title>
            <defs><clipPath id="\(id)"><rect x="\(num(left))" y="\(num(top))" width="\(num(plot))" height="\(num(plot))"/></clipPath></defs>
            <rect x="0" y="0" width="\(Int(width))" height="\(Int(height))" fill="white"/>
            <text x="\(num(left))" y="22" font-size="14" font-weight="bold">\(xmlEscape(title))</text>

            """
        let cell = plot / Double(n)
        for (k, level) in levels.enumerated() {
            let shade = 200 - Int(Double(k) / Double(max(1, levels.count - 1)) * 110)
            var d = ""
            for (a, b) in Self.segments(grid: grid, level: level) {
                d += "M\(num(left + a.0 * cell)) \(num(top + plot - a.1 * cell))L\(num(left + b.0 * cell)) \(num(top + plot - b.1 * cell))"
            }
            if !d.isEmpty {
                s +=
                    "<path class=\"contour\" data-level=\"\(String(format: "%.4g", level))\" d=\"\(d)\" fill=\"none\" stroke=\"rgb(\(shade),\(shade),\(shade + 40 > 255 ? 255 : shade + 40))\" stroke-width=\"0.8\"/>\n"
            }
        }
        for t in LineChart.ticks(dx.lowerBound, dx.upperBound, log: false) {
            s += "<text x=\"\(num(px(t)))\" y=\"\(num(top + plot + 16))\" text-anchor=\"middle\">\(LineChart.tickLabel(t))</text>\n"
        }
        for t in LineChart.ticks(dy.lowerBound, dy.upperBound, log: false) {
            s += "<text x=\"\(num(left - 6))\" y=\"\(num(py(t) + 4))\" text-anchor=\"end\">\(LineChart.tickLabel(t))</text>\n"
        }
        s += "<rect x=\"\(num(left))\" y=\"\(num(top))\" width=\"\(num(plot))\" height=\"\(num(plot))\" fill=\"none\" stroke=\"#333\"/>\n"
        s += "<text class=\"axis-label x\" x=\"\(num(left + plot / 2))\" y=\"\(num(height - 8))\" text-anchor=\"middle\">x</text>\n"
        s += "<text class=\"axis-label y\" transform=\"translate(14 \(num(top + plot / 2))) rotate(-90)\" text-anchor=\"middle\">y</text>\n"
        for (x, y) in Self.minima(function) {
            s +=
                "<path class=\"minimum\" d=\"M\(num(px(x) - 5)) \(num(py(y)))h10M\(num(px(x))) \(num(py(y) - 5))v10\" stroke=\"black\" stroke-width=\"2\"/>\n"
        }
        // Earlier paths are drawn wider, so one that runs under a later one still shows at its
        // edges; the second four series are dashed.
        for (i, path) in paths.enumerated() {
            let colour = LineChart.palette[path.slot % LineChart.palette.count]
            let fate = Self.fate(path.points, in: (dx, dy))
            let width = 1.4 + 0.5 * Double(paths.count - 1 - i)
            let dash = path.slot % 8 >= 4 ? " stroke-dasharray=\"7 4\"" : ""
            let coordinates = fate.drawn.map { "\(num(px($0.x))),\(num(py($0.y)))" }.joined(separator: " ")
            s +=
                "<polyline class=\"series\" data-series=\"\(xmlEscape(path.label))\" clip-path=\"url(#\(id))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"\(num(width))\" stroke-opacity=\"0.9\" stroke-linejoin=\"round\"\(dash) points=\"\(coordinates)\"/>\n"
            if let end = fate.drawn.last {
                if fate.left != nil {
                    // Where it left: a cross on the frame.
                    let (x, y) = (px(end.x), py(end.y))
                    s += "<path class=\"divergence\" d=\"M\(num(x - 6)) \(num(y - 6))L\(num(x + 6)) \(num(y + 6))M\(num(x - 6)) \(num(y + 6))L\(num(x + 6)) \(num(y - 6))\" stroke=\"\(colour)\" stroke-width=\"3\"/>\n"
                } else {
                    s += LineChart.marker(path.slot, x: px(end.x), y: py(end.y), colour: colour).replacingOccurrences(of: "class=\"marker\"", with: "class=\"end\"")
                }
            }
            let ly = top + 10 + Double(i) * 34
            s +=
                "<line x1=\"\(num(left + plot + 14))\" y1=\"\(num(ly))\" x2=\"\(num(left + plot + 34))\" y2=\"\(num(ly))\" stroke=\"\(colour)\" stroke-width=\"3\"\(dash)/>\n"
            s += "<text class=\"legend\" x=\"\(num(left + plot + 40))\" y=\"\(num(ly + 4))\">\(xmlEscape(path.label))</text>\n"
            s += "<text class=\"legend-detail\" x=\"\(num(left + plot + 40))\" y=\"\(num(ly + 18))\" font-size=\"11\" fill=\"#555\">\(xmlEscape(fate.text))</text>\n"
        }
        if let start = paths.first?.points.first {
            s +=
                "<circle class=\"start\" cx=\"\(num(px(Double(start.x))))\" cy=\"\(num(py(Double(start.y))))\" r=\"4\" fill=\"none\" stroke=\"black\" stroke-width=\"1.5\"/>\n"
        }
        return s + "</svg>\n"
    }
}

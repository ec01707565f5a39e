import Engine
import Foundation
import Store
import XCTest
@testable import OptilogCLI

/// The figures' details a reader trips over: ticks, labels, markers, overlaps, divergence.
final class ChartTests: XCTestCase {
    /// A log axis over less than three decades gets 1-2-5 ticks, never a lone "1".
    func testLogAxesGetSeveralTicksAndNoMinusZero() {
        let ticks = LineChart.ticks(log10(0.95), log10(8.8), log: true).map { (pow(10, $0) * 1000).rounded() / 1000 }
        XCTAssertEqual(ticks, [1, 2, 5])
        XCTAssertEqual(LineChart.ticks(-2, 3, log: true), [-2, -1, 0, 1, 2, 3])
        XCTAssertGreaterThanOrEqual(LineChart.ticks(log10(1.2), log10(1.9), log: true).count, 3, "round values inside a decade")
        XCTAssertEqual(LineChart.tickLabel(-1e-17), "0")
        XCTAssertEqual(LineChart.tickLabel(-0.0), "0")
        XCTAssertEqual(LineChart.tickLabel(0.25), "0.25")
        XCTAssertEqual(LineChart.tickLabel(2e-5), "2.0e-05")
        let chart = LineChart(title: "t", xLabel: "epoch", yLabel: "val_loss (MAE in k$)",
                              lines: [.init(label: "adam", slot: 2, points: [(1, 1.2), (2, 8.5), (3, 4)])], logY: true)
        let svg = chart.svg()
        XCTAssertGreaterThanOrEqual(svg.components(separatedBy: "stroke=\"#e5e5e5\"").count - 1, 3, "at least three y grid lines")
        XCTAssertTrue(svg.contains("<text class=\"axis-label y\""))
        XCTAssertTrue(svg.contains(">val_loss (MAE in k$) (log)</text>"))
        XCTAssertFalse(svg.contains(">-0<"))
        // A short series: a marker on each of its 3 points (and one in the legend).
        XCTAssertEqual(svg.components(separatedBy: "class=\"marker\"").count - 1, 4)
    }

    /// In the terminal every series' points show: a point another series holds moves a row,
    /// and what still cannot show is counted in the legend; at least five y labels on 18 rows.
    func testTerminalChartsShowEverySeries() {
        let same = [(1.0, 2.3), (2.0, 2.3), (3.0, 2.3)]
        let chart = LineChart(title: "t", xLabel: "epoch", yLabel: "val_loss",
                              lines: [.init(label: "adadelta", slot: 0, points: same), .init(label: "adagrad", slot: 1, points: same),
                                      .init(label: "adam", slot: 2, points: [(1, 0.5), (2, 0.4), (3, 0.3)])])
        let text = chart.terminal(width: 40, height: 18, color: false)
        let rows = text.split(separator: "\n").dropFirst().prefix(18)
        XCTAssertEqual(rows.filter { $0.contains("*") }.count >= 1 && rows.filter { $0.contains("+") }.count >= 1, true, text)
        XCTAssertEqual(rows.filter { $0.contains("┤") }.count >= 5, true, text)
        let many = (0..<5).map { LineChart.Line(label: "s\($0)", slot: $0, points: same) }
        let crowded = LineChart(title: "t", xLabel: "epoch", yLabel: "v", lines: many).terminal(width: 40, height: 18, color: false)
        XCTAssertTrue(crowded.contains("hidden under others"), crowded)
    }

    /// Terminal colours avoid black, grey, dark blue and white.
    func testTerminalColoursReadOnDarkAndLight() {
        for slot in 0..<8 {
            let code = Terminal.paint("x", series: slot).dropFirst(2).prefix { $0 != "m" }
            XCTAssertFalse(["30", "34", "37", "90", "97"].contains(String(code)), "slot \(slot): \(code)")
        }
    }

    /// A path that leaves the frame is drawn to the frame and marked; the legend says when; a
    /// path that stays gives its final value.
    func testSurfacePathsSayHowTheyEnded() {
        let domain = ContourPlot.domain(.rosenbrock)
        let away = [TestSurface.Point(step: 0, x: -1.5, y: 2, loss: 12), TestSurface.Point(step: 1, x: 0, y: 2.5, loss: 600),
                    TestSurface.Point(step: 2, x: 40, y: -90, loss: 1e9), TestSurface.Point(step: 3, x: .infinity, y: .nan, loss: .nan)]
        let fate = ContourPlot.fate(away, in: domain)
        XCTAssertEqual(fate.left, 2)
        XCTAssertEqual(fate.text, "left at step 2, diverged at 3")
        XCTAssertEqual(fate.drawn.count, 3)
        XCTAssertTrue(domain.x.contains(fate.drawn[2].x) && domain.y.contains(fate.drawn[2].y), "the last point drawn is on the frame")
        let stays = [TestSurface.Point(step: 0, x: -1.5, y: 2, loss: 12), TestSurface.Point(step: 500, x: 0.9, y: 0.8, loss: 0.0123)]
        XCTAssertEqual(ContourPlot.fate(stays, in: domain).text, "f = 0.0123 at step 500")
        XCTAssertNil(ContourPlot.fate(stays, in: domain).left)
        let plot = ContourPlot(function: .rosenbrock, paths: [.init(label: "sgd", slot: 7, points: away), .init(label: "adam", slot: 2, points: stays)],
                               title: "rosenbrock")
        let svg = plot.svg()
        XCTAssertEqual(svg.components(separatedBy: "class=\"divergence\"").count - 1, 1)
        XCTAssertTrue(svg.contains("<text class=\"axis-label y\""))
        XCTAssertTrue(svg.contains(">left at step 2, diverged at 3</text>"))
        // The first path drawn is the wider one.
        var widths: [String] = []
        for part in svg.components(separatedBy: "class=\"series\"").dropFirst() {
            guard let range = part.range(of: "stroke-width=\"") else { continue }
            widths.append(String(part[range.upperBound...].prefix { $0 != "\"" }))
        }
        XCTAssertEqual(widths, ["1.90", "1.40"])
    }

    /// Legends name optimizers and the settings that tell runs apart, not run ids.
    func testFigureLegendsNameSettingsNotRuns() {
        let a = Curve(run: 3, task: "boston", optimizer: "sgd", points: [], settings: #"{"name": "sgd", "learning_rate": 0.01, "momentum": 0.0}"#)
        var b = a
        (b.run, b.settings) = (4, #"{"name": "sgd", "learning_rate": 0.10000000149011612, "momentum": 0.0}"#)
        let c = Curve(run: 5, task: "boston", optimizer: "adam", points: [], settings: #"{"name": "adam"}"#)
        XCTAssertEqual(Curves.legend([a, b, c]), ["sgd learning_rate=0.01", "sgd learning_rate=0.1", "adam"])
        XCTAssertEqual(Curves.legend([a, a, c]), ["sgd (run 3)", "sgd (run 3)", "adam"])
    }
}

import XCTest
@testable import Store

/// Seeds as statistics: the numbers against hand computation and SciPy's
/// `ttest_ind(a, b, equal_var=False)`, and the verdicts a table marks.
final class SeedStatisticsTests: XCTestCase {
    func testWelchMatchesSciPy() throws {
        // scipy 1.x: ttest_ind([1,2,3,4], [2,4,6,8], equal_var=False)
        let r = try XCTUnwrap(Welch.test([1, 2, 3, 4], [2, 4, 6, 8]))
        XCTAssertEqual(r.t, -1.7320508075688774, accuracy: 1e-12)
        XCTAssertEqual(r.df, 4.411764705882353, accuracy: 1e-12)
        XCTAssertEqual(r.p, 0.15158050484530375, accuracy: 1e-9)
        let s = try XCTUnwrap(Welch.test([3.32, 3.35, 3.30], [3.44, 3.47, 3.41]))
        XCTAssertEqual(s.t, -5.160468465421406, accuracy: 1e-9)
        XCTAssertEqual(s.p, 0.007257202991553832, accuracy: 1e-9)
        // Student's t tails: 2·sf(2, 3) and 2·sf(0.5, 30).
        XCTAssertEqual(Welch.studentTwoSided(t: 2, df: 3), 0.13932596855884305, accuracy: 1e-10)
        XCTAssertEqual(Welch.studentTwoSided(t: 0.5, df: 30), 0.6207230048851272, accuracy: 1e-10)
        XCTAssertNil(Welch.test([1], [2, 3]), "one seed is not a spread")
        XCTAssertEqual(Welch.test([2, 2], [2, 2])?.p, 1)
        XCTAssertEqual(Welch.test([1, 1], [2, 2])?.p, 0)
    }

    func cell(_ optimizer: String, _ values: [Double]) -> SeedSummary {
        SeedSummary(group: [.text("boston"), .text(optimizer)], task: "boston", comparison: nil, values: values,
                    runs: values.indices.map(Int64.init), epochs: values.map { _ in 1 })
    }

    func testSummaryStatistics() {
        let c = cell("adam", [3, 1, 4, 1, 5])
        XCTAssertEqual(c.n, 5)
        XCTAssertEqual(c.mean, 2.8)
        XCTAssertEqual(c.sd!, (((0.04 + 3.24 + 1.44 + 3.24 + 4.84) / 4) as Double).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(c.median, 3)
        XCTAssertEqual(cell("a", [4, 1, 3, 2]).median, 2.5)
        XCTAssertEqual(c.value(.min), 1)
        XCTAssertEqual(c.value(.max), 5)
        XCTAssertNil(cell("a", [7]).sd)
    }

    func testVerdicts() {
        let lower: (Double, Double) -> Bool = { $0 < $1 }
        // Clearly apart: a winner.
        let apart = [cell("adam", [3.32, 3.35, 3.30]), cell("sgd", [3.44, 3.47, 3.41]), cell("ftrl", [23, 23.1, 22.9])]
        XCTAssertEqual(ReadOnlyStore.verdicts(apart, statistic: .mean, better: lower).map(\.verdict), [.winner, .behind, .behind])
        // Within the noise of the best: tied, no winner.
        let close = [cell("adam", [1, 2, 3, 4]), cell("sgd", [2, 4, 6, 8]), cell("ftrl", [20, 21, 22])]
        XCTAssertEqual(ReadOnlyStore.verdicts(close, statistic: .mean, better: lower).map(\.verdict), [.tied, .tied, .behind])
        // Higher is better (accuracy).
        XCTAssertEqual(ReadOnlyStore.verdicts(apart, statistic: .mean, better: { $0 > $1 }).map(\.verdict), [.behind, .behind, .winner])
        // One run per cell: the best is marked as it always was, nothing is tested.
        let single = [cell("adam", [3.3]), cell("sgd", [3.1])]
        let v = ReadOnlyStore.verdicts(single, statistic: .mean, better: lower)
        XCTAssertEqual(v.map(\.verdict), [.behind, .best])
        XCTAssertNil(v[0].p)
        // The best by its minimum but worse on average is not a winner over a better mean.
        let skewed = [cell("a", [0.5, 5, 5, 5.1, 5.2]), cell("b", [1.0, 1.01, 0.99, 1.0, 1.02])]
        XCTAssertEqual(ReadOnlyStore.verdicts(skewed, statistic: .min, better: lower).map(\.verdict), [.tied, .tied])
        // One seed beside several: it cannot be separated, so no winner.
        XCTAssertEqual(ReadOnlyStore.verdicts([cell("adam", [1, 1.1, 0.9]), cell("sgd", [5])], statistic: .mean, better: lower).map(\.verdict),
                       [.tied, .tied])
    }

    /// Only runs that differ in their seed alone are pooled: another learning rate is another
    /// cell, in the same comparison.
    func testRunsPoolOnlyAcrossSeeds() throws {
        let store = try Store(path: temporaryStorePath())
        // Seed 1 at 0.01 twice (an ad-hoc run beside the study's): one sample, not two.
        for (lr, seed, loss) in [(0.001, 1, 0.5), (0.001, 2, 0.7), (0.001, 3, 0.6), (0.01, 1, 0.2), (0.01, 2, 0.3), (0.01, 1, 0.2)] as [(Double, UInt64, Double)] {
            var run = sampleRun(optimizer: "adam")
            run.seed = seed
            run.optimizerConfiguration = "{\"learning_rate\": \(lr)}"
            try store.commitEpoch(sampleEpoch(1, valLoss: loss), run: try store.createRun(run))
        }
        let cells = try store.reader.seedSummaries(BestQuery())
        XCTAssertEqual(cells.map(\.n), [3, 2])
        XCTAssertEqual(cells[1].runs, [4, 5], "the first of the two seed-1 runs")
        XCTAssertEqual(cells.map(\.settings), ["{\"learning_rate\": 0.001}", "{\"learning_rate\": 0.01}"])
        XCTAssertEqual(cells[0].mean, 0.6, accuracy: 1e-12)
        XCTAssertEqual(cells[1].mean, 0.25, accuracy: 1e-12)
        XCTAssertEqual(cells[0].sd!, 0.1, accuracy: 1e-12)
        XCTAssertEqual(Set(cells.compactMap(\.comparison)).count, 1)
    }

    /// A comparison takes its baseline from any run that logged one (runs logged before
    /// baselines share comparisons with newer ones).
    func testABaselineFromAnyRunOfTheComparison() throws {
        let store = try Store(path: temporaryStorePath())
        var old = sampleRun(optimizer: "adam")
        old.baselineValLoss = nil
        try store.commitEpoch(sampleEpoch(1, valLoss: 0.1), run: try store.createRun(old))
        var new = sampleRun(optimizer: "sgd")
        (new.baselineValLoss, new.baselineValMetric) = (0.9, 0.5)
        try store.commitEpoch(sampleEpoch(1, valLoss: 0.2), run: try store.createRun(new))
        let best = try store.reader.best(BestQuery())
        XCTAssertEqual(best.map(\.optimizer), ["adam", "sgd"])
        XCTAssertEqual(best.map { $0.comparison?.baselineValLoss }, [0.9, 0.9], "the old run's comparison has the new run's baseline")
        XCTAssertEqual(try store.reader.seedSummaries(BestQuery()).map { $0.comparison?.baselineValMetric }, [0.5, 0.5])
    }
}

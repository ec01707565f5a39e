import XCTest
import Engine
@testable import Data

/// `--samples` and `--validation-samples`: stratified, seeded subsets for classes, a plain
/// seeded subset for regression, and for a series the first windows with validation right after
/// them; the first layout (`prefix`) for runs logged before.
final class SlicingTests: XCTestCase {
    /// 100 samples ordered by class, as aclImdb's folder reads: 70 of class 1 then 30 of class 0.
    func ordered() throws -> Dataset {
        let labels: [Float] = Array(repeating: 1, count: 70) + Array(repeating: 0, count: 30)
        return try Dataset(name: "ordered", x: try Tensor(shape: [100, 1], scalars: (0..<100).map(Float.init)), y: try Tensor(shape: [100, 1], scalars: labels))
    }

    func testClassesKeepTheirProportionsInASeededSubset() throws {
        let set = try ordered()
        let (cut, notes) = try Slicing.stratified.cut(DataSplits(train: set, validation: set), train: 20, validation: 10)
        XCTAssertEqual(notes, [])
        let (x, y) = cut.train.batch(0..<cut.train.count)
        XCTAssertEqual(y.scalars.filter { $0 == 1 }.count, 14, "70% of 20")
        XCTAssertEqual(y.scalars.filter { $0 == 0 }.count, 6)
        XCTAssertEqual(x.scalars, x.scalars.sorted(), "in the set's own order")
        XCTAssertEqual(cut.validation.count, 10)
        XCTAssertEqual(cut.validation.batch(0..<10).y.scalars.filter { $0 == 1 }.count, 7)
        // The same subset every time (the seed is fixed), and not the first rows.
        let again = try Slicing.stratified.cut(DataSplits(train: set, validation: set), train: 20, validation: 10).splits
        XCTAssertEqual(again.train.batch(0..<20).x.scalars, x.scalars)
        XCTAssertNotEqual(x.scalars, (0..<20).map(Float.init))
        // The first layout: the first 20, all of class 1.
        let prefix = try Slicing.prefix.cut(DataSplits(train: set, validation: set), train: 20, validation: nil).splits
        XCTAssertEqual(prefix.train.batch(0..<20).y.scalars, Array(repeating: 1, count: 20))
    }

    func testOneHotClassesAndRemaindersAddUp() throws {
        // Three classes of 5, 3 and 2 samples; 7 of them: 3.5, 2.1, 1.4 → 4, 2, 1 (largest remainders).
        let classes = [0, 0, 0, 0, 0, 1, 1, 1, 2, 2]
        let y = classes.flatMap { c in (0..<3).map { $0 == c ? Float(1) : 0 } }
        let set = try Dataset(name: "onehot", x: try Tensor(shape: [10, 1], scalars: (0..<10).map(Float.init)), y: try Tensor(shape: [10, 3], scalars: y))
        XCTAssertEqual(Slicing.classes(set), classes)
        let cut = Slicing.sample(set, count: 7, stream: 1)
        let picked = cut.batch(0..<cut.count).x.scalars.map { classes[Int($0)] }
        XCTAssertEqual([0, 1, 2].map { c in picked.filter { $0 == c }.count }, [4, 2, 1])
        XCTAssertEqual(Slicing.sample(set, count: 50, stream: 1).count, 10, "asking for more than there is gives all")
    }

    func testRegressionTargetsAreOneStratum() throws {
        let set = try Dataset(name: "r", x: try Tensor(shape: [6, 1], scalars: [0, 1, 2, 3, 4, 5]), y: try Tensor(shape: [6, 1], scalars: [2.5, 3, 9, 1, 0, 7]))
        XCTAssertEqual(Slicing.classes(set), [0, 0, 0, 0, 0, 0])
        XCTAssertEqual(Slicing.sample(set, count: 3, stream: 1).count, 3)
    }

    /// 200 rows of two features (row, 1000 + row), target = row; windows of 5 rows every 2nd,
    /// the target 12 rows after the start; 120 training windows and 30 held out from row 150.
    static func series() throws -> (train: WindowedSeries, held: WindowedSeries) {
        let rows = 200
        let series = (0..<rows).flatMap { [Float($0), Float(1000 + $0)] }
        let make = { (starts: [Int]) in
            try WindowedSeries(name: "s", series: series, features: 2, targets: (0..<rows).map(Float.init), length: 5, samplingRate: 2,
                               targetOffset: 12, starts: starts)
        }
        return (try make(Array(0..<120)), try make(Array(150..<180)))
    }

    /// A series trains on its first windows and validates on the windows whose targets come
    /// after everything the training windows read.
    func testASeriesValidatesRightAfterItsTrainingWindows() throws {
        let (train, held) = try Self.series()
        let (cut, notes) = try Slicing.stratifiedEveryRow.cut(DataSplits(train: train, validation: held), train: 30, validation: 10)
        XCTAssertEqual(notes, [])
        XCTAssertEqual(cut.train.batch(0..<cut.train.count).y.scalars, (12..<42).map(Float.init), "the first 30 windows' targets")
        // The last training window starts at 29, reads rows 29…37 and has its target at 41: the
        // first validation target after both is 42 (the window starting at 30).
        let validationTargets = cut.validation.batch(0..<cut.validation.count).y.scalars
        XCTAssertEqual(validationTargets, (42..<52).map(Float.init))
        // Too short a stretch: the held-out split's first windows, said so.
        let (short, why) = try Slicing.stratifiedEveryRow.cut(DataSplits(train: train, validation: held), train: 112, validation: 10)
        XCTAssertEqual(short.validation.batch(0..<10).y.scalars, (162..<172).map(Float.init))
        XCTAssertEqual(why.count, 1)
    }

    /// New runs take a series' windows one sampling step apart (an hour of Jena's 10-minute
    /// rows), so that N windows span N hours rather than N rows.
    func testASeriesTakesOneWindowPerSamplingStep() throws {
        let (train, held) = try Self.series()
        let (cut, notes) = try Slicing.stratified.cut(DataSplits(train: train, validation: held), train: 30, validation: 10)
        XCTAssertEqual(notes, [])
        XCTAssertEqual(cut.train.batch(0..<cut.train.count).y.scalars, stride(from: 12, to: 72, by: 2).map(Float.init))
        // The last training window starts at 58, reads rows 58…66 and has its target at 70: the
        // first window whose target lies beyond both starts at 59 (target 71).
        XCTAssertEqual(cut.validation.batch(0..<cut.validation.count).y.scalars, stride(from: 71, to: 91, by: 2).map(Float.init))
        let (short, why) = try Slicing.stratified.cut(DataSplits(train: train, validation: held), train: 56, validation: 10)
        XCTAssertEqual(short.validation.batch(0..<short.validation.count).y.scalars, stride(from: 162, to: 182, by: 2).map(Float.init))
        XCTAssertEqual(why.count, 1)
        XCTAssertEqual(why, ["s: too few windows after the first 56 to validate on the 10 right after them; validating on the held-out split's first 10, one per 2 rows"])
        // More windows than the stretch holds: all of them, a step apart.
        XCTAssertEqual(try Slicing.stratified.cut(DataSplits(train: train, validation: held), train: 1_000, validation: nil).splits.train.count, 60)
        // No training limit: every window trains, as without any limit.
        XCTAssertEqual(try Slicing.stratified.cut(DataSplits(train: train, validation: held), train: nil, validation: 10).splits.train.count, 120)
    }
}

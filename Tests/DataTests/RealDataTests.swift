import Foundation
import XCTest
@testable import Data
import Engine

/// `../shared/datasets` beside the checkout (where CI puts it), or `OPTILOG_SHARED`.
var datasets: URL {
    let root = ProcessInfo.processInfo.environment["OPTILOG_SHARED"].map { URL(fileURLWithPath: $0) }
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared")
    return root.appendingPathComponent("datasets")
}

func shared(_ relative: String) throws -> String {
    let path = datasets.appendingPathComponent(relative).path
    guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("\(relative) not found under \(datasets.path) (set OPTILOG_SHARED)") }
    return path
}

final class RealDataTests: XCTestCase {
    func testNumPyArraysFromNpyAndDeflatedNpz() throws {
        let npy = try NumPyArray(npy: [UInt8](try Data(contentsOf: URL(fileURLWithPath: try shared("imdb/keras_reference/x_train_preview.npy")))),
                                 name: "x.npy")
        let npz = try NumPyArchive(path: try shared("imdb/keras_reference/x_train_preview.npz")).array("arr_0", in: "x.npz")
        XCTAssertEqual(npy.shape, [100, 200])
        XCTAssertEqual(npz.shape, [100, 200])
        let a = try XCTUnwrap(npy.integers), b = try XCTUnwrap(npz.integers)
        XCTAssertEqual(a, b)
        // The well-known first Keras IMDB training review.
        XCTAssertEqual(Array(a.prefix(12)), [1, 14, 22, 16, 43, 530, 973, 1622, 1385, 65, 458, 4468])
        let labels = try NumPyArchive(path: try shared("imdb/keras_reference/y_train_preview.npz")).array("arr_0", in: "y.npz")
        XCTAssertEqual(labels.integers?.reduce(0, +), 42)  // as numpy reads it
    }

    func testFashionMNISTFromGzippedIDX() throws {
        let test = try FashionMNIST.load(images: try shared("fashion-mnist/t2k-images-idx3-ubyte.gz"),
                                         labels: try shared("fashion-mnist/t2k-labels-idx1-ubyte.gz"), name: "t2k")
        XCTAssertEqual(test.x.shape, [2000, 28, 28, 1])
        XCTAssertEqual(test.y.shape, [2000, 10])
        // PROVENANCE.md: mean pixel 73.19 / 255.
        XCTAssertEqual(test.x.scalars.reduce(0.0) { $0 + Double($1) } / Double(test.x.count) * 255, 73.19, accuracy: 0.01)
        // Labels equal the first 2,000 of the canonical t10k label file.
        let canonical = try IDXArray(path: try shared("fashion-mnist/t10k-labels-idx1-ubyte.gz"))
        XCTAssertEqual(canonical.shape, [10_000])
        for i in 0..<2000 { XCTAssertEqual(test.y.scalars[i * 10 + Int(canonical.bytes[i])], 1) }
        let train = try IDXArray(path: try shared("fashion-mnist/train-labels-idx1-ubyte.gz"))
        XCTAssertEqual(train.shape, [60_000])
        XCTAssertEqual((0..<10).map { c in train.bytes.filter { $0 == c }.count }, [Int](repeating: 6000, count: 10))
    }

    func testKerasIMDBSequencesAreReproducedTokenForToken() throws {
        let tokenizer = try IMDBTokenizer(wordIndexPath: try shared("imdb/imdb_word_index.json"))
        XCTAssertEqual(tokenizer.wordIndex.count, 88_584)
        let expected = try XCTUnwrap(try NumPyArchive(path: try shared("imdb/keras_reference/x_train_preview.npz")).array("arr_0", in: "x").integers)
        let previews = (0..<100).map { Array(expected[($0 * 200)..<($0 * 200 + 200)]) }
        // Keras's order is not aclImdb's: find each preview's review by its first eight tokens
        // (several reviews may share them), then compare whole.
        var wanted: [[Int]: [Int]] = [:]
        for (i, p) in previews.enumerated() { wanted[Array(p.prefix(8)), default: []].append(i) }
        var found = Set<Int>()
        let archive = try TarArchive(path: try shared("imdb/aclImdb_v1_labeled.tar.gz"))
        var matched = 0
        for (path, contents) in archive.files where path.contains("aclImdb/train/") && path.hasSuffix(".txt") {
            let text = String(decoding: contents, as: UTF8.self)
            // The first eight tokens come from the first few hundred characters.
            let head = tokenizer.sequence(String(text.prefix(400)))
            guard head.count >= 8, let candidates = wanted[Array(head.prefix(8))] else { continue }
            let full = tokenizer.sequence(text)
            let cut = Array(full.prefix(200)) + [Int](repeating: 0, count: max(0, 200 - full.count))
            for i in candidates where cut == previews[i] && found.insert(i).inserted { matched += 1 }
        }
        XCTAssertEqual(matched, 100, "Keras preview sequences reproduced token for token; missing: \(Set(0..<100).subtracting(found).sorted())")
        // The study's form: cut to 10,000 words, padded and cut at the front to 500.
        XCTAssertEqual(IMDBTokenizer.prepare([1, 14, 22, 12_000, 9_999], numWords: 10_000, length: 7), [0, 0, 1, 14, 22, 2, 9_999])
        XCTAssertEqual(IMDBTokenizer.prepare(Array(1...10), length: 4), [7, 8, 9, 10])
    }

    func testIMDBFolderLoader() throws {
        let tokenizer = try IMDBTokenizer(wordIndexPath: try shared("imdb/imdb_word_index.json"))
        let set = try IMDB.load(aclImdb: try shared("imdb/aclImdb"), split: "test", tokenizer: tokenizer, limit: 40)
        XCTAssertEqual(set.x.shape, [40, 500])
        XCTAssertEqual(set.y.scalars.reduce(0, +), 20)
        XCTAssert(set.x.scalars.allSatisfy { $0 >= 0 && $0 < 10_000 })
        // Row 0 is the first positive test review, prepared as Keras would.
        let first = try String(contentsOfFile: try shared("imdb/aclImdb/test/pos/0_10.txt"), encoding: .utf8)
        XCTAssertEqual(Array(set.x.scalars[0..<500]).map { Int($0) }, IMDBTokenizer.prepare(tokenizer.sequence(first)))
    }

    func testJenaWindowsAsTheStudyBuildsThem() throws {
        let splits = try JenaClimate.load(path: try shared("jena-climate/jena_climate_2009_2016_hourly_6cols.csv"))
        XCTAssertEqual(splits.samplingRate, 1)
        XCTAssertEqual(splits.features, ["p (mbar)", "T (degC)", "Tdew (degC)", "rh (%)", "VPmax (mbar)", "wv (m/s)"])
        let rows = 70_038, delay = 143
        XCTAssertEqual(splits.train.count, rows / 2 - 119)
        XCTAssertEqual(splits.validation.starts.first, rows / 2)
        XCTAssertEqual(splits.test.starts.last, rows - delay - 119 - 1)
        // Hand-computed: the first window's target is T 143 hours after row 0: data row 144 of the file.
        let (x, y) = splits.train.batch([0])
        XCTAssertEqual(x.shape, [1, 120, 6])
        let csv = try String(contentsOfFile: try shared("jena-climate/jena_climate_2009_2016_hourly_6cols.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n")
        XCTAssertEqual(y.scalars[0], Float(lines[1 + 143].split(separator: ",")[2])!)
        // Features are normalised with the training rows: over them, each has mean 0 and std 1.
        let trainRows = rows / 2
        for f in 0..<6 {
            let values = (0..<trainRows).map { Double(splits.train.series[$0 * 6 + f]) }
            let mean = values.reduce(0, +) / Double(trainRows)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(trainRows)
            XCTAssertEqual(mean, 0, accuracy: 1e-4)
            XCTAssertEqual(variance, 1, accuracy: 1e-3)
        }
        // The 4,000-row 10-minute file: sampled every 6 rows, its 25% test rows are too few for
        // one 120 + 24-hour window, which is said plainly.
        XCTAssertEqual(try JenaClimate.minutesBetween("01.01.2009 00:10:00", "01.01.2009 00:20:00", name: "j"), 10)
        XCTAssertThrowsError(try JenaClimate.load(path: try shared("jena-climate/jena_climate_2009_first4000rows_12cols.csv"))) {
            XCTAssertTrue("\($0)".contains("too few rows for a test window"), "\($0)")
        }
    }
}

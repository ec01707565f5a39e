import Foundation
import XCTest
@testable import Data
import Engine

final class LocatorTests: XCTestCase {
    func temporaryDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("optilog-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    /// The CSV split equals NumPy's `RandomState(113).shuffle(np.arange(506))` (first indices
    /// printed by NumPy 2.4: 22, 202, 368, 335, 461, …; last: …, 74, 162, 220, 165).
    func testBostonSplitIsKeras() throws {
        let path = Self.fixtures + "/boston_house_prices.csv"
        let (train, test) = try BostonHousing.load(path: path, normalize: false)
        XCTAssertEqual(train.count, 404)
        XCTAssertEqual(test.count, 102)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let rows = Array(text.split(whereSeparator: \.isNewline).dropFirst()).map { $0.split(separator: ",").map { Float($0)! } }
        for (position, row) in [(0, 22), (1, 202), (2, 368), (3, 335), (4, 461)] {
            XCTAssertEqual(Array(train.x.scalars[(position * 13)..<(position * 13 + 13)]), Array(rows[row].prefix(13)), "train \(position)")
            XCTAssertEqual(train.y.scalars[position], rows[row][13])
        }
        XCTAssertEqual(test.y.scalars.suffix(4), ArraySlice([74, 162, 220, 165].map { rows[$0][13] }))
        // Normalised with the training rows only: mean 0 over them.
        let (normalized, _) = try BostonHousing.load(path: path)
        let mean = (0..<404).map { Double(normalized.x.scalars[$0 * 13]) }.reduce(0, +) / 404
        XCTAssertEqual(mean, 0, accuracy: 1e-5)
    }

    func testNumPyRandomStateMatchesNumPy() {
        // np.random.RandomState(0).randint? No: the raw MT19937 stream, first outputs for seed 5489 (the reference seed).
        var rng = NumPyRandomState(seed: 5489)
        XCTAssertEqual((0..<3).map { _ in rng.nextUInt32() }, [3_499_211_612, 581_869_302, 3_890_346_734])
    }

    /// A clone without symbolic links stores each link as a text file holding its target: the
    /// locator reads the target and says so; a text file that merely names a missing file is
    /// read as itself (and fails as the data it claims to be).
    func testALinkStoredAsTextIsReadAtItsTarget() throws {
        let dir = try temporaryDirectory(), real = try temporaryDirectory()
        try FileManager.default.copyItem(atPath: Self.fixtures + "/boston_house_prices.csv", toPath: real + "/boston.csv")
        let relative = "../" + (real as NSString).lastPathComponent + "/boston.csv"
        try Data((relative + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/boston_house_prices.csv"))
        let found = try DataLocator(dataDir: dir, environment: ["HOME": dir]).locate(.boston)
        XCTAssertEqual(found.source, real + "/boston.csv")
        XCTAssertEqual(found.splits.train.count, 404)
        XCTAssertEqual(found.notes, ["\(dir)/boston_house_prices.csv is a symbolic link stored as text; reading its target \(real)/boston.csv"])
        // A real symbolic link: the data's size is reported, not the link's.
        try FileManager.default.removeItem(atPath: dir + "/boston_house_prices.csv")
        try FileManager.default.createSymbolicLink(atPath: dir + "/boston_house_prices.csv", withDestinationPath: real + "/boston.csv")
        let linked = try DataLocator(dataDir: dir, environment: ["HOME": dir]).locate(.boston)
        XCTAssertEqual(linked.bytes, try FileManager.default.attributesOfItem(atPath: real + "/boston.csv")[.size] as? Int)
        XCTAssertGreaterThan(linked.bytes, 30_000)
        try FileManager.default.removeItem(atPath: dir + "/boston_house_prices.csv")
        // A link to a file beside it is stored as its bare name.
        try FileManager.default.copyItem(atPath: real + "/boston.csv", toPath: dir + "/boston_real.csv")
        try Data("boston_real.csv".utf8).write(to: URL(fileURLWithPath: dir + "/boston_house_prices.csv"))
        XCTAssertEqual(try DataLocator(dataDir: dir, environment: ["HOME": dir]).locate(.boston).source, dir + "/boston_real.csv")
        try Data("../nowhere/boston.csv".utf8).write(to: URL(fileURLWithPath: dir + "/boston_house_prices.csv"))
        XCTAssertThrowsError(try DataLocator(dataDir: dir, environment: ["HOME": dir]).locate(.boston))
    }

    func testSearchOrderAndFallbacks() throws {
        let first = try temporaryDirectory(), second = try temporaryDirectory(), home = try temporaryDirectory()
        let fixture = Self.fixtures + "/boston_house_prices.csv"
        // Only the OPTILOG_DATA directory holds a Boston file: it is found there.
        try FileManager.default.copyItem(atPath: fixture, toPath: second + "/boston_house_prices.csv")
        var locator = DataLocator(dataDir: first, environment: ["OPTILOG_DATA": second, "HOME": home])
        XCTAssertEqual(try locator.locate(.boston).source, second + "/boston_house_prices.csv")
        // --data-dir wins over OPTILOG_DATA.
        try FileManager.default.copyItem(atPath: fixture, toPath: first + "/boston_house_prices.csv")
        XCTAssertEqual(try locator.locate(.boston).source, first + "/boston_house_prices.csv")
        // Keras's cache layout: ~/.keras/datasets/fashion-mnist/*.gz.
        let cache = home + "/.keras/datasets/fashion-mnist"
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        for (name, source) in [("train-images-idx3-ubyte.gz", "digits-28x28-train-images-idx3-ubyte.gz"),
                               ("train-labels-idx1-ubyte.gz", "digits-28x28-train-labels-idx1-ubyte.gz"),
                               ("t10k-images-idx3-ubyte.gz", "digits-28x28-test-images-idx3-ubyte.gz"),
                               ("t10k-labels-idx1-ubyte.gz", "digits-28x28-test-labels-idx1-ubyte.gz")] {
            try FileManager.default.copyItem(atPath: Self.fixtures + "/" + source, toPath: cache + "/" + name)
        }
        let fashion = try locator.locate(.fashionMNIST)
        XCTAssertEqual(fashion.source, cache)
        XCTAssertEqual(fashion.dataset, "Fashion-MNIST (IDX)")
        // Nothing anywhere: the fixtures, named as such.
        locator = DataLocator(dataDir: nil, environment: ["HOME": try temporaryDirectory()])
        XCTAssertEqual(try locator.locate(.boston).source, "embedded fixture")
        XCTAssertTrue(try locator.locate(.fashionMNIST).dataset.contains("digits"))
        let weather = try locator.locate(.jena)
        XCTAssertTrue(weather.dataset.hasPrefix("NYC JFK hourly weather"), weather.dataset)
        XCTAssertEqual(weather.splits.train.inputShape, [120, 6])
        XCTAssertEqual(weather.splits.train.count, 8706 / 2 - 119)
        let reviews = try locator.locate(.imdb)
        XCTAssertTrue(reviews.dataset.hasPrefix("Rotten Tomatoes review snippets"), reviews.dataset)
        XCTAssertEqual(reviews.splits.train.count, 3893)
        XCTAssertEqual(reviews.splits.train.inputShape, [500])
        // Keras's imdb.npz in Keras's cache is read (a file in its layout stands in for it).
        try FileManager.default.copyItem(atPath: Self.fixtures + "/imdb-format-sample.npz", toPath: home + "/.keras/datasets/imdb.npz")
        let npz = try DataLocator(environment: ["HOME": home]).locate(.imdb)
        XCTAssertEqual(npz.dataset, "IMDB (Keras's imdb.npz)")
        XCTAssertEqual(npz.splits.train.count, 40)
        // A damaged one is an error naming it, not a silent fallback.
        let damaged = try temporaryDirectory()
        XCTAssertTrue(FileManager.default.createFile(atPath: damaged + "/imdb.npz", contents: Data([0x50, 0x4B])))
        XCTAssertThrowsError(try DataLocator(dataDir: damaged, environment: ["HOME": home]).locate(.imdb)) {
            XCTAssertEqual("\($0)", damaged + "/imdb.npz: not a zip archive (too short)")
        }
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures").path

    struct ReviewsGolden: Decodable {
        struct Part: Decodable { let order: [Int]; let labels: [Int]; let sequences: [[Int]] }
        let train_count, test_count, train_positive, test_positive, vocabulary: Int
        let top_words: [String]
        let train_first_sequences, test_first_sequences: [[Int]]
        let imdb_format_sample: [String: Part]
    }

    func golden() throws -> ReviewsGolden {
        try JSONDecoder().decode(ReviewsGolden.self, from: Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/rotten-tomatoes-golden.json")))
    }

    /// The review fixture, tokenised and indexed as Python does Keras's recipe
    /// (tools/fixtures/make_fixtures.py wrote the expected values).
    func testReviewFixtureMatchesPythonsKerasRecipe() throws {
        let g = try golden()
        let (train, test, tokenizer) = try IMDB.load(reviewsCSV: Self.fixtures + "/rotten-tomatoes-reviews.csv.gz")
        XCTAssertEqual([train.count, test.count], [g.train_count, g.test_count])
        XCTAssertEqual(Int(train.y.scalars.reduce(0, +)), g.train_positive)
        XCTAssertEqual(Int(test.y.scalars.reduce(0, +)), g.test_positive)
        XCTAssertEqual(tokenizer.wordIndex.count, g.vocabulary)
        XCTAssertEqual(g.top_words.map { tokenizer.wordIndex[$0] }, Array(1...20))
        for (data, expected) in [(train, g.train_first_sequences), (test, g.test_first_sequences)] {
            for (row, sequence) in expected.enumerated() {
                let padded = data.x.scalars[(row * 500)..<((row + 1) * 500)].map { Int($0) }
                XCTAssertEqual(Array(padded.suffix(sequence.count)), sequence)
                XCTAssertEqual(padded.prefix(500 - sequence.count).filter { $0 != 0 }, [])
            }
        }
    }

    /// A file in Keras's imdb.npz layout (ragged lists pickled in object arrays) gives what
    /// `keras.datasets.imdb.load_data(num_words=10000)` gives: Keras's shuffle (seed 113, train
    /// then test), start mark, offset, and the vocabulary cut.
    func testKerasIMDBNpzLayout() throws {
        let g = try golden().imdb_format_sample
        let (train, test) = try IMDB.load(npz: Self.fixtures + "/imdb-format-sample.npz", length: 60)
        for (data, part) in [(train, g["train"]!), (test, g["test"]!)] {
            XCTAssertEqual(data.y.scalars.map { Int($0) }, part.labels)
            for (row, sequence) in part.sequences.enumerated() {
                let padded = data.x.scalars[(row * 60)..<((row + 1) * 60)].map { Int($0) }
                XCTAssertEqual(Array(padded.drop { $0 == 0 }), Array(sequence.suffix(60)), "row \(row)")
            }
        }
        // A smaller vocabulary maps the rarer words to oov_char, as Keras does.
        let (small, _) = try IMDB.load(npz: Self.fixtures + "/imdb-format-sample.npz", numWords: 100, length: 60)
        XCTAssertEqual(small.x.scalars.max(), 99)
        XCTAssertTrue(small.x.scalars.contains(2))
    }

    /// The fixtures the executable carries are the files in fixtures/ (tools/fixtures/make_fixtures.py).
    func testEmbeddedFixturesMatchTheFiles() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fixtures")
        let sums = try String(contentsOf: dir.appendingPathComponent("SHA256SUMS"), encoding: .utf8)
        let names = sums.split(separator: "\n").map { String($0.split(separator: " ").last!) }
        XCTAssertEqual(Set(names), Set(EmbeddedFixtures.files.keys))
        for name in names {
            XCTAssertEqual(Data(base64Encoded: EmbeddedFixtures.files[name]!), try Data(contentsOf: dir.appendingPathComponent(name)), name)
        }
        // Fingerprints are stable functions of the prepared arrays.
        let a = try DataLocator(environment: ["HOME": "/nonexistent"]).locate(.boston)
        let b = try DataLocator(environment: ["HOME": "/nonexistent"]).locate(.boston)
        XCTAssertEqual(a.fingerprint, b.fingerprint)
        XCTAssertEqual(a.fingerprint.count, 64 + 1 + 64)
        var changed = a.splits.train as! Dataset
        changed.x.scalars[0] = changed.x.scalars[0].nextUp
        XCTAssertNotEqual(Fingerprint.of(changed), Fingerprint.of(a.splits.train))
    }
}

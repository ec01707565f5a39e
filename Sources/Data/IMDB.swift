import Engine
import Foundation

/// IMDB reviews as Keras's sequences: from the raw `aclImdb` folder tokenised exactly as
/// Keras's `imdb.npz` was made (see ../shared/datasets/imdb/TOKENIZER_NOTES.md): lowercase,
/// the characters !"#$%&()*+,-./:;<=>?@[\]^_`{|}~ tab and newline become spaces, split on
/// spaces; word → word_index + 3 (index_from), unknown → 2 (oov_char), a leading 1
/// (start_char); ids ≥ num_words → 2; then `pad_sequences` to 500 (pad and cut at the front).
public struct IMDBTokenizer: Sendable {
    public let wordIndex: [String: Int]
    public static let startChar = 1, oovChar = 2, indexFrom = 3

    public init(wordIndexPath: String) throws {
        let data = try readFile(wordIndexPath)
        guard let object = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any] else {
            throw DataError(wordIndexPath, "is not a JSON object of word → index")
        }
        var index: [String: Int] = [:]
        index.reserveCapacity(object.count)
        for (word, value) in object {
            guard let n = (value as? NSNumber)?.intValue, n > 0 else { throw DataError(wordIndexPath, "word \"\(word)\" has no positive index") }
            index[word] = n
        }
        wordIndex = index
    }

    public init(wordIndex: [String: Int]) { self.wordIndex = wordIndex }

    /// Keras's recipe for a word index (how `imdb_word_index.json` was made): words ranked by how
    /// often they occur in `texts`, most frequent first, ties in order of first appearance; ranks from 1.
    public init(rankingWordsOf texts: [String]) {
        var counts: [String: (count: Int, first: Int)] = [:]
        var seen = 0
        for text in texts {
            for word in Self.words(text) {
                if let c = counts[word] { counts[word] = (c.count + 1, c.first) } else { counts[word] = (1, seen); seen += 1 }
            }
        }
        let ranked = counts.sorted { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.value.first < $1.value.first }
        wordIndex = Dictionary(uniqueKeysWithValues: ranked.enumerated().map { ($1.key, $0 + 1) })
    }

    /// Code points that end a word (Python works on code points, so "\r\n" is "\r" then a separator).
    static let separators: Set<Unicode.Scalar> = Set(" !\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n".unicodeScalars)

    /// Keras's `text_to_word_sequence` with its defaults.
    public static func words(_ text: String) -> [String] {
        var out: [String] = []
        var word = String.UnicodeScalarView()
        for scalar in text.lowercased().unicodeScalars {
            if separators.contains(scalar) {
                if !word.isEmpty { out.append(String(word)) }
                word = String.UnicodeScalarView()
            } else {
                word.append(scalar)
            }
        }
        if !word.isEmpty { out.append(String(word)) }
        return out
    }

    /// Keras's sequence of a review, not cut to a vocabulary and not padded.
    public func sequence(_ text: String) -> [Int] {
        [Self.startChar] + Self.words(text).map { wordIndex[$0].map { $0 + Self.indexFrom } ?? Self.oovChar }
    }

    /// ids ≥ `numWords` become `oov_char`, then `pad_sequences(maxlen:)` with Keras's defaults
    /// (padding and truncating at the front).
    public static func prepare(_ sequence: [Int], numWords: Int = 10_000, length: Int = 500) -> [Int] {
        let capped = sequence.map { $0 < numWords ? $0 : oovChar }
        if capped.count >= length { return Array(capped.suffix(length)) }
        return [Int](repeating: 0, count: length - capped.count) + capped
    }
}

public enum IMDB {
    /// A split of the aclImdb folder (`train` or `test`): `pos` then `neg` reviews in file-id order,
    /// labels 1 and 0, as Float32 ids [n, length] and labels [n, 1].
    public static func load(aclImdb folder: String, split: String, tokenizer: IMDBTokenizer, numWords: Int = 10_000,
                            length: Int = 500, limit: Int? = nil) throws -> Dataset {
        var x: [Float] = [], y: [Float] = []
        var count = 0
        for (label, sentiment) in [(1, "pos"), (0, "neg")] {
            let dir = (folder as NSString).appendingPathComponent("\(split)/\(sentiment)")
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
                throw DataError(dir, "no such folder (the aclImdb layout has \(split)/pos and \(split)/neg)")
            }
            let reviews = names.filter { $0.hasSuffix(".txt") }.sorted { fileID($0) < fileID($1) }
            for file in reviews.prefix(limit.map { $0 / 2 } ?? Int.max) {
                let path = (dir as NSString).appendingPathComponent(file)
                guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                    throw DataError(path, "is not a UTF-8 text file")
                }
                x += IMDBTokenizer.prepare(tokenizer.sequence(text), numWords: numWords, length: length).map(Float.init)
                y.append(Float(label))
                count += 1
            }
        }
        guard count > 0 else { throw DataError(folder, "has no reviews in \(split)/pos or \(split)/neg") }
        return try Dataset(name: "aclImdb_\(split)", x: Tensor(shape: [count, length], scalars: x), y: Tensor(shape: [count, 1], scalars: y))
    }

    /// Keras's `imdb.npz` (ragged word-rank sequences, pickled) as `load_data(num_words:)` returns
    /// it — train then test shuffled by one `RandomState(113)`, a start mark, ranks + 3, rare words
    /// → 2 — padded like `pad_sequences(maxlen: length)`.
    public static func load(npz path: String, numWords: Int = 10_000, length: Int = 500, seed: UInt32 = 113,
                            limit: Int? = nil) throws -> (train: Dataset, test: Dataset) {
        let archive = try NumPyArchive(path: path)
        var rng = NumPyRandomState(seed: seed)
        func split(_ part: String) throws -> Dataset {
            let xs = try archive.array("x_\(part)", in: path), ys = try archive.array("y_\(part)", in: path)
            guard let sequences = xs.sequences else { throw DataError(path, "x_\(part) is not an array of sequences (dtype object)") }
            guard let labels = ys.integers, labels.count == sequences.count, labels.allSatisfy({ $0 == 0 || $0 == 1 }) else {
                throw DataError(path, "y_\(part) must hold one 0/1 label per sequence (\(sequences.count))")
            }
            var order = Array(0..<sequences.count)
            rng.shuffle(&order)
            let n = min(limit ?? order.count, order.count)
            guard n > 0 else { throw DataError(path, "x_\(part) is empty") }
            var x = [Float](), y = [Float]()
            x.reserveCapacity(n * length)
            for i in order.prefix(n) {
                // Word ranks are small; anything near Int.max would overflow when `index_from` is added.
                if let bad = sequences[i].first(where: { $0 < 0 || $0 > 1 << 40 }) {
                    throw DataError(path, "x_\(part)[\(i)] holds word id \(bad), out of range")
                }
                let keras = [IMDBTokenizer.startChar] + sequences[i].map { $0 + IMDBTokenizer.indexFrom }
                x += IMDBTokenizer.prepare(keras, numWords: numWords, length: length).map(Float.init)
                y.append(Float(labels[i]))
            }
            return try Dataset(name: "imdb_npz_\(part)", x: Tensor(shape: [n, length], scalars: x), y: Tensor(shape: [n, 1], scalars: y))
        }
        let train = try split("train")
        return (train, try split("test"))
    }

    /// Labelled reviews in one CSV file (columns `split`, `label`, `text`; split `train` or `test`,
    /// label 1 positive, 0 negative) — the embedded Rotten Tomatoes fixture's layout — with a word
    /// index ranked on its training split as Keras ranked IMDB's.
    public static func load(reviewsCSV path: String, numWords: Int = 10_000, length: Int = 500) throws
        -> (train: Dataset, test: Dataset, tokenizer: IMDBTokenizer) {
        let table = try CSVTable(text: try readText(path), name: path)
        guard let s = table.header.firstIndex(of: "split"), let l = table.header.firstIndex(of: "label"),
              let t = table.header.firstIndex(of: "text") else {
            throw DataError(path, "needs the columns split, label and text (it has \(table.header.joined(separator: ", ")))")
        }
        var parts: [String: [(label: Float, text: String)]] = ["train": [], "test": []]
        for (i, row) in table.rows.enumerated() {
            guard parts[String(row[s])] != nil else { throw DataError(path, "line \(i + 2): split must be train or test, not \"\(row[s])\"") }
            guard let label = Int(row[l]), label == 0 || label == 1 else { throw DataError(path, "line \(i + 2): label must be 0 or 1, not \"\(row[l])\"") }
            parts[String(row[s])]!.append((Float(label), String(row[t])))
        }
        let tokenizer = IMDBTokenizer(rankingWordsOf: parts["train"]!.map(\.text))
        func dataset(_ part: String) throws -> Dataset {
            let rows = parts[part]!
            guard !rows.isEmpty else { throw DataError(path, "has no \(part) reviews") }
            let x = rows.flatMap { IMDBTokenizer.prepare(tokenizer.sequence($0.text), numWords: numWords, length: length).map(Float.init) }
            return try Dataset(name: "reviews_\(part)", x: Tensor(shape: [rows.count, length], scalars: x),
                               y: Tensor(shape: [rows.count, 1], scalars: rows.map(\.label)))
        }
        return (try dataset("train"), try dataset("test"), tokenizer)
    }

    static func fileID(_ name: String) -> Int { Int(name.prefix { $0.isNumber }) ?? Int.max }
}

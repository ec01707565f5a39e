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

    /// Code points that end a word (Python works on code points, so "\r\n" is "\r" then a separator).
    static let separators: Set<Unicode.Scalar> = Set(" !\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n".unicodeScalars)

    /// Keras's sequence of a review, not cut to a vocabulary and not padded.
    public func sequence(_ text: String) -> [Int] {
        var out = [Self.startChar]
        var word = String.UnicodeScalarView()
        func flush() {
            if !word.isEmpty { out.append(wordIndex[String(word)].map { $0 + Self.indexFrom } ?? Self.oovChar) }
            word = String.UnicodeScalarView()
        }
        for scalar in text.lowercased().unicodeScalars {
            if Self.separators.contains(scalar) { flush() } else { word.append(scalar) }
        }
        flush()
        return out
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

    static func fileID(_ name: String) -> Int { Int(name.prefix { $0.isNumber }) ?? Int.max }
}

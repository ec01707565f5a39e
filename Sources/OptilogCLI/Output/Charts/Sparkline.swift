/// A one-line chart of a series in block characters, lowest value ▁, highest █ (a gap for a
/// missing value), resampled to at most `width` characters.
enum Sparkline {
    static let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    static func render(_ values: [Double?], width: Int = 60) -> String {
        guard !values.isEmpty else { return "" }
        let sampled: [Double?] = values.count <= width ? values : (0..<width).map { i in values[i * values.count / width] }
        let finite = sampled.compactMap { $0 }.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max() else { return String(repeating: " ", count: sampled.count) }
        return String(
            sampled.map { v -> Character in
                guard let v, v.isFinite else { return " " }
                let level = high > low ? Int(((v - low) / (high - low) * 7).rounded()) : 3
                return blocks[max(0, min(7, level))]
            })
    }
}

import Foundation

/// The Jena climate series (Keras's `jena_climate_2009_2016.csv`, or any subset of its columns
/// and rows) prepared as the study does (Chollet, Deep Learning with Python, ch. 10): hourly
/// samples, a 120-hour history of every feature, the temperature 24 hours after the window as
/// the target; time-ordered splits of 50% / 25% / 25% of the rows; features normalised with the
/// mean and standard deviation of the training rows only; targets in °C.
public enum JenaClimate {
    public static let historyHours = 120
    public static let horizonHours = 24
    public static let temperatureColumn = "T (degC)"

    public struct Splits: Sendable {
        public var train: WindowedSeries
        public var validation: WindowedSeries
        public var test: WindowedSeries
        public var features: [String]
        /// Rows between samples (6 for the 10-minute file, 1 for an hourly one).
        public var samplingRate: Int
    }

    public static func load(path: String) throws -> Splits {
        try load(csv: try readText(path), name: path)
    }

    public static func load(csv text: String, name: String) throws -> Splits {
        let table = try CSVTable(text: text, name: name)
        guard table.header.first == "Date Time" else {
            throw DataError(name, "the first column must be \"Date Time\" (the canonical Jena layout), found \"\(table.header.first ?? "")\"")
        }
        guard let t = table.header.firstIndex(of: temperatureColumn) else { throw DataError(name, "has no \"\(temperatureColumn)\" column") }
        let features = Array(table.header.dropFirst())
        guard table.rows.count >= 2 else { throw DataError(name, "has fewer than 2 rows") }
        let step = try minutesBetween(table.rows[0][0], table.rows[1][0], name: name)
        guard step > 0, 60 % step == 0 else { throw DataError(name, "rows are \(step) minutes apart; 10-minute or hourly data expected") }
        let rate = 60 / step
        let columns = try (1..<table.header.count).map { try table.numbers(column: $0, name: name) }
        let rows = table.rows.count
        let delay = rate * (historyHours + horizonHours - 1)
        let trainRows = rows / 2, validationRows = rows / 4
        // Normalise with the training rows only.
        var series = [Float](repeating: 0, count: rows * features.count)
        for (f, column) in columns.enumerated() {
            let train = column[0..<trainRows].map(Double.init)
            let mean = train.reduce(0, +) / Double(train.count)
            let std = (train.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(train.count)).squareRoot()
            guard std > 0 else { throw DataError(name, "column \"\(features[f])\" is constant over the training rows") }
            for r in 0..<rows { series[r * features.count + f] = Float((Double(column[r]) - mean) / std) }
        }
        let temperature = columns[t - 1]
        // Window starts as timeseries_dataset_from_array(data[:-delay], targets=temperature[delay:],
        // sampling_rate, sequence_length=120, start_index, end_index) yields them.
        let span = (historyHours - 1) * rate
        func starts(_ begin: Int, _ end: Int) -> [Int] {
            let last = min(end, rows - delay) - span
            return last > begin ? Array(begin..<last) : []
        }
        func split(_ label: String, _ s: [Int]) throws -> WindowedSeries {
            guard !s.isEmpty else { throw DataError(name, "too few rows for a \(label) window of \(historyHours) hours plus \(horizonHours)") }
            return try WindowedSeries(name: "jena_\(label)", series: series, features: features.count, targets: temperature,
                                      length: historyHours, samplingRate: rate, targetOffset: delay, starts: s)
        }
        return Splits(train: try split("train", starts(0, trainRows)),
                      validation: try split("validation", starts(trainRows, trainRows + validationRows)),
                      test: try split("test", starts(trainRows + validationRows, rows)),
                      features: features, samplingRate: rate)
    }

    /// Minutes from one "dd.mm.yyyy HH:MM:SS" stamp to the next.
    static func minutesBetween(_ a: Substring, _ b: Substring, name: String) throws -> Int {
        func minutes(_ s: Substring) throws -> Int {
            let parts = s.split(whereSeparator: { " .:".contains($0) }).compactMap { Int($0) }
            guard parts.count == 6 else { throw DataError(name, "\"\(s)\" is not a dd.mm.yyyy HH:MM:SS time") }
            var components = DateComponents()
            (components.day, components.month, components.year, components.hour, components.minute) = (parts[0], parts[1], parts[2], parts[3], parts[4])
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            guard let date = calendar.date(from: components) else { throw DataError(name, "\"\(s)\" is not a valid time") }
            return Int(date.timeIntervalSince1970 / 60)
        }
        return try minutes(b) - minutes(a)
    }
}

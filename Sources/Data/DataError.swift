/// A data file that cannot be used, with what is wrong and where.
public struct DataError: Error, Equatable, CustomStringConvertible {
    public let file: String
    public let problem: String

    public init(_ file: String, _ problem: String) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "\(file): \(problem)" }
}

/// An error whose text is the whole message (printed as `optilog: error: <text>`).
struct CleanError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

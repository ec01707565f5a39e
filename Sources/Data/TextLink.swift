import Foundation

/// A symbolic link checked out as a text file holding its target (what git writes where links
/// are off, e.g. `core.symlinks=false`, or what a copy that does not follow links leaves): the
/// target, when the file is that and nothing else and the target exists.
enum TextLink {
    static func target(of path: String) -> String? {
        guard EmbeddedFixtures.name(of: path) == nil,
              let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              attributes[.type] as? FileAttributeType == .typeRegular,
              let size = attributes[.size] as? Int, size > 0, size < 1_024,
              let data = FileManager.default.contents(atPath: path),
              var text = String(data: data, encoding: .utf8) else { return nil }
        if text.hasSuffix("\n") { text.removeLast() }
        guard !text.isEmpty, !text.contains("\n"), !text.contains("\0") else { return nil }
        let base = (path as NSString).deletingLastPathComponent
        let target = text.hasPrefix("/") ? text : ((base as NSString).appendingPathComponent(text) as NSString).standardizingPath
        let itself = (path as NSString).standardizingPath
        return target != itself && FileManager.default.fileExists(atPath: target) ? target : nil
    }
}

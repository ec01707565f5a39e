import Foundation

/// Just enough of Python's pickle to read NumPy object arrays, as in Keras's `imdb.npz`
/// (arrays of ragged lists of word ids). Like Keras's own restricted unpickler, the only
/// callables it accepts are NumPy's array reconstruction (`_reconstruct`, `ndarray`, `dtype`):
/// a pickle is a program, and any other global is refused instead of being run.
enum Pickle {
    indirect enum Value {
        case none, bool(Bool), int(Int), float(Double), string(String), bytes([UInt8])
        /// A tuple and how deeply tuples nest in it (kept, so that checking it costs no walk).
        case list(ListBox), tuple([Value], depth: Int), dict
        case global(String)
        case array(ArrayBox), dtype(DTypeBox)
    }

    /// Lists and arrays change after they are made (APPENDS, BUILD), and the memo shares them —
    /// so a hostile pickle can make a list that holds itself. Every box is registered in the
    /// load's arena, which empties them all when the load's result has been read, breaking any
    /// such cycle (found by fuzzing as a leak).
    final class ListBox {
        var items: [Value] = []
        init(_ arena: Arena) { arena.lists.append(self) }
    }
    final class ArrayBox {
        var shape: [Int] = [], descr = "", items: [Value] = [], raw: [UInt8] = []
        init(_ arena: Arena) { arena.arrays.append(self) }
    }
    final class Arena {
        var lists: [ListBox] = [], arrays: [ArrayBox] = []
        func release() {
            for l in lists { l.items = [] }
            for a in arrays { a.items = [] }
        }
    }
    final class DTypeBox { var descr: String; init(_ d: String) { descr = d } }

    static let allowedGlobals: Set<String> = [
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.ndarray", "numpy.dtype",
    ]

    /// The value a pickle stream builds.
    static func load(_ bytes: [UInt8], name: String, arena: Arena) throws -> Value {
        var p = 0
        var stack: [Value] = []
        var marks: [Int] = []
        var memo: [Int: Value] = [:]
        func fail(_ what: String) -> DataError { DataError(name, "pickled object: \(what) (at byte \(p))") }
        func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, n <= bytes.count - p else { throw fail("truncated") }
            defer { p += n }
            return bytes[p..<(p + n)]
        }
        func uint(_ n: Int) throws -> Int {
            var v = 0
            for (i, b) in try take(n).enumerated() { v |= Int(b) << (8 * i) }
            guard v >= 0 else { throw fail("length out of range") }
            return v
        }
        func line() throws -> String {
            guard let end = bytes[p...].firstIndex(of: 0x0A) else { throw fail("truncated") }
            defer { p = end + 1 }
            return String(decoding: bytes[p..<end], as: UTF8.self)
        }
        func pop() throws -> Value {
            guard let v = stack.popLast() else { throw fail("stack underflow") }
            return v
        }
        func popMark() throws -> [Value] {
            guard let m = marks.popLast(), m <= stack.count else { throw fail("no mark") }
            defer { stack.removeSubrange(m...) }
            return Array(stack[m...])
        }
        func text(_ s: ArraySlice<UInt8>) throws -> String {
            guard let t = String(bytes: s, encoding: .utf8) else { throw fail("invalid UTF-8") }
            return t
        }
        func signed(_ s: ArraySlice<UInt8>) throws -> Int {
            guard s.count <= 8 else { throw fail("integer wider than 64 bits") }
            guard !s.isEmpty else { return 0 }
            var v: UInt64 = 0
            for (i, b) in s.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
            let shift = UInt64(64 - 8 * s.count)
            return Int(Int64(bitPattern: v << shift) >> Int64(shift))
        }

        while true {
            let op = try take(1).first!
            switch op {
            case 0x80: _ = try take(1)                                     // PROTO
            case 0x95: _ = try take(8)                                     // FRAME
            case 0x2E: return try pop()                                    // STOP
            case 0x28: marks.append(stack.count)                           // MARK
            case 0x30: _ = try pop()                                       // POP
            case 0x31: _ = try popMark()                                   // POP_MARK
            case 0x32: stack.append(try stack.last ?? { throw fail("stack underflow") }())  // DUP
            case 0x4E: stack.append(.none)
            case 0x88: stack.append(.bool(true))
            case 0x89: stack.append(.bool(false))
            case 0x4B: stack.append(.int(try uint(1)))                     // BININT1
            case 0x4D: stack.append(.int(try uint(2)))                     // BININT2
            case 0x4A: stack.append(.int(try signed(try take(4))))         // BININT
            case 0x8A: stack.append(.int(try signed(try take(try uint(1)))))  // LONG1
            case 0x8B: stack.append(.int(try signed(try take(try uint(4)))))  // LONG4
            case 0x49, 0x4C:                                               // INT, LONG (text)
                let t = try line().trimmingCharacters(in: CharacterSet(charactersIn: "L"))
                if t == "00" { stack.append(.bool(false)) } else if t == "01" { stack.append(.bool(true)) } else {
                    guard let v = Int(t) else { throw fail("bad integer \(t.prefix(20))") }
                    stack.append(.int(v))
                }
            case 0x47:                                                     // BINFLOAT
                var v: UInt64 = 0
                for b in try take(8) { v = v << 8 | UInt64(b) }
                stack.append(.float(Double(bitPattern: v)))
            case 0x8C: stack.append(.string(try text(try take(try uint(1)))))  // SHORT_BINUNICODE
            case 0x58: stack.append(.string(try text(try take(try uint(4)))))  // BINUNICODE
            case 0x8D: stack.append(.string(try text(try take(try uint(8)))))  // BINUNICODE8
            // Python 2 `str` (SHORT_BINSTRING, BINSTRING) is bytes; NumPy reads it as latin-1.
            case 0x55: stack.append(.bytes(Array(try take(try uint(1)))))
            case 0x54: stack.append(.bytes(Array(try take(try uint(4)))))
            case 0x43: stack.append(.bytes(Array(try take(try uint(1)))))  // SHORT_BINBYTES
            case 0x42: stack.append(.bytes(Array(try take(try uint(4)))))  // BINBYTES
            case 0x8E: stack.append(.bytes(Array(try take(try uint(8)))))  // BINBYTES8
            case 0x5D: stack.append(.list(ListBox(arena)))                 // EMPTY_LIST
            case 0x6C:                                                     // LIST
                let box = ListBox(arena)
                box.items = try popMark()
                stack.append(.list(box))
            case 0x61, 0x65:                                               // APPEND, APPENDS
                let items = op == 0x61 ? [try pop()] : try popMark()
                guard case .list(let box)? = stack.last else { throw fail("append to a non-list") }
                box.items += items
            case 0x29: stack.append(.tuple([], depth: 1))                  // EMPTY_TUPLE
            case 0x74: stack.append(try tuple(try popMark(), fail))        // TUPLE
            case 0x85, 0x86, 0x87:                                         // TUPLE1-3
                let n = Int(op - 0x84)
                guard stack.count >= n else { throw fail("stack underflow") }
                let items = Array(stack.suffix(n))
                stack.removeLast(n)
                stack.append(try tuple(items, fail))
            case 0x7D: stack.append(.dict)                                 // EMPTY_DICT (contents not needed)
            case 0x71: memo[try uint(1)] = try stack.last ?? { throw fail("stack underflow") }()   // BINPUT
            case 0x72: memo[try uint(4)] = try stack.last ?? { throw fail("stack underflow") }()   // LONG_BINPUT
            case 0x94: memo[memo.count] = try stack.last ?? { throw fail("stack underflow") }()    // MEMOIZE
            case 0x70: memo[Int(try line()) ?? -1] = try stack.last ?? { throw fail("stack underflow") }()  // PUT
            case 0x68, 0x6A, 0x67:                                         // BINGET, LONG_BINGET, GET
                let key = op == 0x68 ? try uint(1) : op == 0x6A ? try uint(4) : Int(try line()) ?? -1
                guard let v = memo[key] else { throw fail("unknown memo entry \(key)") }
                stack.append(v)
            case 0x63:                                                     // GLOBAL
                let module = try line(), attribute = try line()
                stack.append(try global(module + "." + attribute, fail))
            case 0x93:                                                     // STACK_GLOBAL
                guard case .string(let attribute) = try pop(), case .string(let module) = try pop() else { throw fail("bad global") }
                stack.append(try global(module + "." + attribute, fail))
            case 0x52:                                                     // REDUCE
                let args = try pop(), callable = try pop()
                stack.append(try reduce(callable, args, arena, fail))
            case 0x62:                                                     // BUILD
                let state = try pop()
                guard let target = stack.last else { throw fail("stack underflow") }
                try build(target, state, fail)
            default:
                throw fail(String(format: "opcode 0x%02X is not allowed", op))
            }
        }
    }

    /// Tuples nest inside each other by value, and a value nested a million levels deep would
    /// overflow the stack when it is freed: NumPy's data nests a few levels, so more than
    /// `maxDepth` is refused.
    static let maxDepth = 64

    /// Depth from the items' own recorded depths: no walk of the tree (shared through DUP or the
    /// memo, a tree of depth 40 can have 3⁴⁰ paths).
    private static func tuple(_ items: [Value], _ fail: (String) -> DataError) throws -> Value {
        let depth = 1 + (items.map { if case .tuple(_, let d) = $0 { return d } else { return 0 } }.max() ?? 0)
        guard depth <= maxDepth else { throw fail("tuples nested more than \(maxDepth) levels deep") }
        return .tuple(items, depth: depth)
    }

    private static func global(_ name: String, _ fail: (String) -> DataError) throws -> Value {
        guard allowedGlobals.contains(name) else { throw fail("refers to \(name), which is not NumPy array data") }
        return .global(name)
    }

    private static func reduce(_ callable: Value, _ args: Value, _ arena: Arena, _ fail: (String) -> DataError) throws -> Value {
        guard case .global(let name) = callable, case .tuple(let a, _) = args else { throw fail("call of a non-global") }
        if name.hasSuffix("_reconstruct") {
            guard a.count == 3, case .global("numpy.ndarray") = a[0] else { throw fail("_reconstruct of something other than ndarray") }
            return .array(ArrayBox(arena))
        }
        if name == "numpy.dtype" {
            guard let first = a.first else { throw fail("dtype() without arguments") }
            switch first {
            case .string(let s): return .dtype(DTypeBox(s))
            case .bytes(let b): return .dtype(DTypeBox(String(decoding: b, as: UTF8.self)))
            default: throw fail("dtype() of a non-string")
            }
        }
        throw fail("\(name) cannot be called")
    }

    /// `ndarray.__setstate__((version, shape, dtype, is_fortran, data))` and `dtype.__setstate__`.
    private static func build(_ target: Value, _ state: Value, _ fail: (String) -> DataError) throws {
        switch target {
        case .dtype(let d):
            // (version, byte order, subdescr, names, fields, elsize, alignment, flags): the order is all we need.
            if case .tuple(let s, _) = state, s.count > 1 {
                if case .string(let order) = s[1], order == ">" { d.descr = ">" + d.descr }
                if case .bytes(let order) = s[1], order == [0x3E] { d.descr = ">" + d.descr }
            }
        case .array(let box):
            guard case .tuple(var s, _) = state else { throw fail("array state is not a tuple") }
            if s.count == 5 { s.removeFirst() }                            // version
            guard s.count == 4, case .tuple(let shape, _) = s[0], case .dtype(let dtype) = s[1] else { throw fail("malformed array state") }
            box.shape = try shape.map {
                guard case .int(let n) = $0, n >= 0 else { throw fail("malformed array shape") }
                return n
            }
            box.descr = dtype.descr
            switch s[3] {
            case .list(let items): box.items = items.items
            case .bytes(let raw): box.raw = raw
            case .string(let latin1): box.raw = latin1.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }
            default: throw fail("malformed array data")
            }
        default:
            throw fail("BUILD on a value that is not an array")
        }
    }

    /// A 1-D object array of integer sequences (Python lists, or integer arrays), as Keras stores
    /// ragged sequences.
    static func sequences(_ bytes: [UInt8], name: String) throws -> [[Int]] {
        let arena = Arena()
        defer { arena.release() }
        guard case .array(let top) = try load(bytes, name: name, arena: arena) else { throw DataError(name, "pickled object is not a NumPy array") }
        guard top.descr.hasPrefix("O") || top.descr.hasPrefix("|O"), top.shape.count == 1, top.items.count == top.shape[0] else {
            throw DataError(name, "pickled object is not a 1-D object array of sequences (dtype \(top.descr), shape \(top.shape))")
        }
        return try top.items.enumerated().map { i, item in
            switch item {
            case .list(let l):
                return try l.items.map {
                    guard case .int(let v) = $0 else { throw DataError(name, "sequence \(i) holds a non-integer") }
                    return v
                }
            case .array(let a):
                let npyLike = try NumPyArray(descr: a.descr, shape: a.shape, raw: a.raw, name: "\(name)[\(i)]")
                guard let ints = npyLike.integers else { throw DataError(name, "sequence \(i) holds a non-integer") }
                return ints
            default:
                throw DataError(name, "element \(i) is not a sequence of integers")
            }
        }
    }
}

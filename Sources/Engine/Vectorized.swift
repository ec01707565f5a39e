/// Elementwise loops in explicit 16-lane SIMD: the compiler cannot prove that two buffers do
/// not alias, so plain loops over them stay scalar and branchy.
typealias Lanes = SIMD16<Float>

@inline(__always)
func load(_ p: UnsafePointer<Float>) -> Lanes {
    UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
}

@inline(__always)
func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self)
}

/// x[i] = f(x[i]), with `vector` on whole lanes and `scalar` on the tail.
@inline(__always)
func mapInPlace(_ x: UnsafeMutableBufferPointer<Float>, vector: (Lanes) -> Lanes, scalar: (Float) -> Float) {
    guard let base = x.baseAddress else { return }
    let n = x.count, whole = n - n % Lanes.scalarCount
    var i = 0
    while i < whole {
        store(vector(load(base + i)), base + i)
        i += Lanes.scalarCount
    }
    while i < n {
        base[i] = scalar(base[i])
        i += 1
    }
}

/// d[i] = f(y[i], d[i]): an activation's backward step from its output y.
@inline(__always)
func combineInPlace(_ d: UnsafeMutableBufferPointer<Float>, with y: UnsafeBufferPointer<Float>,
                    vector: (Lanes, Lanes) -> Lanes, scalar: (Float, Float) -> Float) {
    guard let dBase = d.baseAddress, let yBase = y.baseAddress else { return }
    let n = d.count, whole = n - n % Lanes.scalarCount
    var i = 0
    while i < whole {
        store(vector(load(yBase + i), load(dBase + i)), dBase + i)
        i += Lanes.scalarCount
    }
    while i < n {
        dBase[i] = scalar(yBase[i], dBase[i])
        i += 1
    }
}

/// a[i] += b[i] for `count` values.
@inline(__always)
func addInPlace(_ a: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) {
    let whole = n - n % Lanes.scalarCount
    var i = 0
    while i < whole {
        store(load(a + i) + load(b + i), a + i)
        i += Lanes.scalarCount
    }
    while i < n {
        a[i] += b[i]
        i += 1
    }
}

/// The 2D test surfaces of the study's figures, evaluated in Float32 in the order Keras's
/// reference evaluates them, with analytic gradients.
public enum TestSurface: String, CaseIterable, Sendable {
    /// (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)², minimum 0 at (3, 0.5).
    case beale
    /// The deep valley: (1 − x)² + 100(y − x²)², minimum 0 at (1, 1).
    case rosenbrock
    /// x² − y², a saddle at the origin.
    case saddle
    /// (x² + y − 11)² + (x + y² − 7)², four minima of 0.
    case himmelblau

    public var defaultStart: (x: Float, y: Float) {
        switch self {
        case .beale: return (1, 1.5)
        case .rosenbrock: return (-1.5, 2)
        case .saddle: return (1, 0.001)
        case .himmelblau: return (0, 0)
        }
    }

    public func value(_ x: Float, _ y: Float) -> Float {
        switch self {
        case .beale:
            let t1 = 1.5 - x + x * y, t2 = 2.25 - x + x * y * y, t3 = 2.625 - x + x * y * y * y
            return t1 * t1 + t2 * t2 + t3 * t3
        case .rosenbrock:
            let a = 1 - x, b = y - x * x
            return a * a + 100 * b * b
        case .saddle:
            return x * x - y * y
        case .himmelblau:
            let a = x * x + y - 11, b = x + y * y - 7
            return a * a + b * b
        }
    }

    public func gradient(_ x: Float, _ y: Float) -> (x: Float, y: Float) {
        switch self {
        case .beale:
            let t1 = 1.5 - x + x * y, t2 = 2.25 - x + x * y * y, t3 = 2.625 - x + x * y * y * y
            let g1 = t1 + t1, g2 = t2 + t2, g3 = t3 + t3
            return (g1 * (y - 1) + g2 * (y * y - 1) + g3 * (y * y * y - 1),
                    g1 * x + g2 * (2 * x * y) + g3 * (3 * x * y * y))
        case .rosenbrock:
            let a = 1 - x, b = y - x * x
            return (-(a + a) + 200 * b * (-2 * x), 200 * b)
        case .saddle:
            return (x + x, -(y + y))
        case .himmelblau:
            let a = x * x + y - 11, b = x + y * y - 7
            return ((a + a) * (2 * x) + (b + b), (a + a) + (b + b) * (2 * y))
        }
    }

    public struct Point: Sendable, Equatable {
        public var step: Int
        public var x: Float
        public var y: Float
        public var loss: Float

        public init(step: Int, x: Float, y: Float, loss: Float) { (self.step, self.x, self.y, self.loss) = (step, x, y, loss) }
    }

    /// The optimizer's path from `start`: `steps + 1` points, point t after t updates. Once the
    /// path leaves the finite numbers it keeps going, as Keras's does (NaN stays NaN).
    public func path(optimizer: Optimizer, start: (x: Float, y: Float)? = nil, steps: Int) -> [Point] {
        let s = start ?? defaultStart
        let point = Parameter(name: "xy", shape: [2], value: [s.x, s.y])
        var out = [Point(step: 0, x: s.x, y: s.y, loss: value(s.x, s.y))]
        out.reserveCapacity(steps + 1)
        for t in 1...max(steps, 1) where steps > 0 {
            let g = gradient(point.value[0], point.value[1])
            point.gradient = [g.x, g.y]
            optimizer.apply(to: [point])
            out.append(Point(step: t, x: point.value[0], y: point.value[1], loss: value(point.value[0], point.value[1])))
        }
        return out
    }
}

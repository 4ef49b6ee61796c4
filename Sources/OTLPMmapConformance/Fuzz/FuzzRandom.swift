/// The fuzzer's random numbers: SplitMix64, so that a seed gives the same cases on every machine
/// and Swift version (the standard library's generator is seeded by the system and cannot be replayed).
struct FuzzRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// A number in `range`; unlike the standard library's `random(in:using:)`, whose algorithm may
    /// change between releases, this one is fixed.
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        let width = UInt64(range.upperBound - range.lowerBound) &+ 1
        guard width != 0 else { return Int(truncatingIfNeeded: next()) }
        return range.lowerBound + Int(next() % width)
    }

    mutating func chance(_ probability: Double) -> Bool {
        Double(next() >> 11) / Double(1 << 53) < probability
    }

    mutating func pick<Element>(_ items: [Element]) -> Element { items[int(0...items.count - 1)] }

    /// An index drawn with the given weights.
    mutating func weighted(_ weights: [Int]) -> Int {
        var left = int(0...weights.reduce(0, +) - 1)
        for (index, weight) in weights.enumerated() {
            if left < weight { return index }
            left -= weight
        }
        return weights.count - 1
    }

    /// The seed of case `index` of a run seeded `seed`: each case can be made again on its own.
    static func caseSeed(_ seed: UInt64, _ index: Int) -> UInt64 {
        var mixer = FuzzRandom(seed: seed ^ (UInt64(index) &* 0xD1B5_4A32_D192_ED03))
        return mixer.next()
    }
}

import FuzzSupport
import OTLPMmapConformance

/// The whole-file checker on arbitrary bytes (seeded with the golden files): it must neither crash
/// nor hang, whatever the offsets, sizes and indices say.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChecker(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let report = FileChecker.check(bytes: Array(UnsafeBufferPointer(start: data, count: size)), name: "fuzz")
    _ = report.passed
    return 0
}

@_cdecl("FuzzChecker_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, { data, size in fuzzChecker(data, size) })
}

import OTLPMmapConformance

/// The whole-file checker on arbitrary bytes (seeded with the golden files): it must neither crash
/// nor hang, whatever the offsets, sizes and indices say.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChecker(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let report = FileChecker.check(bytes: Array(UnsafeBufferPointer(start: data, count: size)), name: "fuzz")
    _ = report.passed
    return 0
}

/// SwiftPM links an executable's entry point as `FuzzChecker_main`; hand control to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("FuzzChecker_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runDriver(&count, &arguments, { data, size in fuzzChecker(data, size) })
}

import FuzzSupport
import OTLPMmapFuzzTargets

/// The whole-file checker on arbitrary bytes (`FuzzTargets.checker`), seeded with the golden files.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChecker(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTargets.checker(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@_cdecl("FuzzChecker_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, { data, size in fuzzChecker(data, size) })
}

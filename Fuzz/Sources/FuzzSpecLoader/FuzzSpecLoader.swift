import FuzzSupport
import OTLPMmapFuzzTargets

/// The spec loader on arbitrary layout and messages text (`FuzzTargets.specLoader`), seeded with spec/.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSpecLoader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTargets.specLoader(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@_cdecl("FuzzSpecLoader_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, { data, size in fuzzSpecLoader(data, size) })
}

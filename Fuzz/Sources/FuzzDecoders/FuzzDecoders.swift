import FuzzSupport
import OTLPMmapFuzzTargets

/// Every record and entry decoder on arbitrary bytes (`FuzzTargets.decoders`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecoders(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTargets.decoders(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@_cdecl("FuzzDecoders_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, { data, size in fuzzDecoders(data, size) })
}

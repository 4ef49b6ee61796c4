import FuzzSupport
import OTLPMmapFuzzTargets

/// The dictionary walk and the resolver on arbitrary entries (`FuzzTargets.dictionary`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDictionary(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTargets.dictionary(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@_cdecl("FuzzDictionary_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, { data, size in fuzzDictionary(data, size) })
}

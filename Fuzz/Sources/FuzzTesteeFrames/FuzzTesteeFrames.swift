import FuzzSupport
import OTLPMmapFuzzTargets

/// The runner's testee-frame splitter and Reply decoder on arbitrary streams (`FuzzTargets.testeeFrames`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTesteeFrames(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTargets.testeeFrames(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@_cdecl("FuzzTesteeFrames_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, { data, size in fuzzTesteeFrames(data, size) })
}

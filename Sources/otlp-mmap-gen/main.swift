import OTLPMmapGenCommand

// Bootstrap generator: depends only on spec/ and the generator, never on generated code.
GenerateCommand.main()

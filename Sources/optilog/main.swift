import OptilogCLI

OptilogProcess.prepareEnvironment()
Optilog.main()

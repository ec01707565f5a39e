import Engine
import OptilogCLI

BLAS.prepareProcess()
Optilog.main()

from mlopsctl.offline import gctuning

gctuning.start()  # before the command's imports; MLOPS_NO_GC_TUNING=1 keeps Python's defaults

from mlopsctl.cli import main  # noqa: E402

gctuning.exit(main())

from exokg.cli import main

raise SystemExit(main())

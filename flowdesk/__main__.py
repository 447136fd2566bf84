from flowdesk.cli import main

raise SystemExit(main())

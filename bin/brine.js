#!/usr/bin/env node
// The `brine` CLI: built code lives in dist/ (npm run build).
import '../dist/src/cli/main.js';

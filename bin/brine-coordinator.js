#!/usr/bin/env node
import '../dist/src/coordinator/main.js';

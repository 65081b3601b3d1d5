#!/usr/bin/env node
import '../dist/site-agent/main.js';

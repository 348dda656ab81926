// Compile a solc standard-JSON input (stdin) with the pinned solc-js from .tools; print the output (stdout).
// Imports resolve against .tools/node_modules (npm packages such as @openzeppelin/contracts) then contracts/src.
"use strict";
const fs = require("fs");
const path = require("path");
const tools = path.resolve(__dirname, "..", ".tools", "node_modules");
const solc = require(path.join(tools, "solc"));

function findImports(importPath) {
  for (const root of [tools, path.join(__dirname, "src")]) {
    const candidate = path.join(root, importPath);
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, "utf8") };
  }
  return { error: `import not found: ${importPath} (run \`make tools\`)` };
}

const input = fs.readFileSync(0, "utf8");
process.stdout.write(JSON.stringify({ version: solc.version(), output: JSON.parse(solc.compile(input, { import: findImports })) }));

export {};
//# sourceMappingURL=connection-options.js.map
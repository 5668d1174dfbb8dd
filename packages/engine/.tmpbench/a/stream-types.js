export {};
//# sourceMappingURL=stream-types.js.map
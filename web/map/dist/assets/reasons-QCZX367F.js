import{a,b}from"./chunk-SIZL6YHU.js";import"./chunk-R4GD4MKA.js";import"./chunk-SQE76S5B.js";export{b as explain,a as reasons};

namespace SharpCtr.Data;

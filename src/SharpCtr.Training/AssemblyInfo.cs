namespace SharpCtr.Training;

namespace SharpCtr.Models;

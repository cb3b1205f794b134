try{var m=localStorage.getItem("hp-mode");if(m)document.documentElement.setAttribute("data-mode",m)}catch(e){}
